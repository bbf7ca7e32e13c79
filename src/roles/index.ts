import type { FastifyInstance } from 'fastify'
import type { Role } from '../config.js'

type RolePlugin = (app: FastifyInstance) => Promise<void>

/**
 * The one place that says which modules each role runs. `all` is every role in one process.
 * Each role is imported only when it runs, so a process loads no vendor SDK it never calls
 * (twilio alone adds about 20 MB to a process that holds it).
 */
const ROLE_PLUGINS: Record<Exclude<Role, 'all'>, () => Promise<RolePlugin>> = {
  'notification-service': async () => (await import('./notification-service.js')).notificationService,
  'channel-orchestrator': async () => (await import('./channel-orchestrator.js')).channelOrchestrator,
  'email-service': async () => (await import('./email-service.js')).emailService,
  'sms-service': async () => (await import('./sms-service.js')).smsService,
  'inapp-service': async () => (await import('./inapp-service.js')).inappService,
  'push-service': async () => (await import('./push-service.js')).pushService
}

export async function registerRoles (app: FastifyInstance, roles: Exclude<Role, 'all'>[]): Promise<void> {
  for (const role of roles) await app.register(await ROLE_PLUGINS[role](), { name: role } as object)
}
