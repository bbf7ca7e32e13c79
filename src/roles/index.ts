import type { FastifyInstance } from 'fastify'
import type { Role } from '../config.js'
import { channelOrchestrator } from './channel-orchestrator.js'
import { emailService } from './email-service.js'
import { inappService } from './inapp-service.js'
import { notificationService } from './notification-service.js'
import { pushService } from './push-service.js'
import { smsService } from './sms-service.js'

/** The one place that says which modules each role runs. `all` is every role in one process. */
const ROLE_PLUGINS: Record<Exclude<Role, 'all'>, (app: FastifyInstance) => Promise<void>> = {
  'notification-service': notificationService,
  'channel-orchestrator': channelOrchestrator,
  'email-service': emailService,
  'sms-service': smsService,
  'inapp-service': inappService,
  'push-service': pushService
}

export async function registerRoles (app: FastifyInstance, roles: Exclude<Role, 'all'>[]): Promise<void> {
  for (const role of roles) await app.register(ROLE_PLUGINS[role], { name: role } as object)
}
