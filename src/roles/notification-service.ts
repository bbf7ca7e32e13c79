import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import { apiKeyAuth, createAuth } from '../modules/auth/index.js'
import { notificationsModule } from '../modules/notifications/index.js'
import { pushSubscriptionsModule } from '../modules/push/index.js'
import { inboxTokensModule } from '../modules/inapp/index.js'
import { recipientsModule } from '../modules/recipients/index.js'

/** The public API: notifications, recipients, preferences, push subscriptions, inbox tokens. */
export async function notificationService (app: FastifyInstance): Promise<void> {
  const auth = createAuth(app.db)
  const { config } = app
  if (config.BOOTSTRAP_API_KEY) {
    const key = config.BOOTSTRAP_API_KEY
    app.addHook('onReady', async () => { await auth.ensureKey('default', key) })
  }
  // Needs no key: a browser asks for it before it can subscribe.
  await app.register(pushSubscriptionsModule, { part: 'public' })
  await app.register(async (api) => {
    await api.register(apiKeyAuth, { auth })
    await api.register(rateLimit, {
      max: config.RATE_LIMIT_MAX,
      timeWindow: config.RATE_LIMIT_WINDOW_MS,
      hook: 'preHandler',
      keyGenerator: (request) => request.tenantId
    })
    await api.register(notificationsModule)
    await api.register(recipientsModule)
    await api.register(pushSubscriptionsModule, { part: 'authenticated' })
    await api.register(inboxTokensModule)
  })
}
