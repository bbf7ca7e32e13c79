import type { FastifyInstance } from 'fastify'
import { createWebPushProvider, type PushProvider } from '../../providers/push/web-push.js'
import { unconfigured } from '../../providers/types.js'
import { createPushRepository } from './repository.js'
import { subscriptionRoutes, vapidKeyRoute } from './routes.js'
import { createSubscriptionsService } from './service.js'
import { startPushWorker } from './worker.js'

/** The push channel (push-service): Web Push with VAPID to every subscription of the recipient. */
export async function pushModule (app: FastifyInstance): Promise<void> {
  const { VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY, VAPID_SUBJECT, PUSH_ALLOW_PRIVATE_ENDPOINTS } = app.config
  let provider: PushProvider
  if (VAPID_PUBLIC_KEY && VAPID_PRIVATE_KEY && VAPID_SUBJECT) {
    try {
      provider = createWebPushProvider({ publicKey: VAPID_PUBLIC_KEY, privateKey: VAPID_PRIVATE_KEY, subject: VAPID_SUBJECT, allowPrivate: PUSH_ALLOW_PRIVATE_ENDPOINTS })
    } catch (err) {
      throw new Error(`VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY, VAPID_SUBJECT: ${(err as Error).message}`)
    }
  } else {
    provider = unconfigured('push', 'VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT')
    app.log.warn('push is not configured (VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY, VAPID_SUBJECT): push deliveries will fail with channel_not_configured')
  }
  if (PUSH_ALLOW_PRIVATE_ENDPOINTS) app.log.warn('PUSH_ALLOW_PRIVATE_ENDPOINTS=true: push endpoints on loopback and private addresses are sent to')
  const repo = createPushRepository(app.db)
  let worker: ReturnType<typeof startPushWorker> | undefined
  app.addHook('onReady', async () => { worker = startPushWorker(app, provider, repo) })
  app.addHook('onClose', async () => {
    await worker?.close()
    await provider.close()
  })
}

/**
 * The subscription API (notification-service), registered twice: `public` outside the API-key
 * scope (the VAPID public key), `authenticated` inside it (subscribe, unsubscribe).
 */
export async function pushSubscriptionsModule (app: FastifyInstance, { part }: { part: 'public' | 'authenticated' }): Promise<void> {
  const { VAPID_PUBLIC_KEY, PUSH_ALLOW_PRIVATE_ENDPOINTS } = app.config
  if (part === 'public') return await app.register(vapidKeyRoute, { publicKey: VAPID_PUBLIC_KEY })
  const service = createSubscriptionsService({ repo: createPushRepository(app.db), allowPrivate: PUSH_ALLOW_PRIVATE_ENDPOINTS })
  await app.register(subscriptionRoutes, { service })
}
