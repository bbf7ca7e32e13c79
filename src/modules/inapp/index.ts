import type { FastifyInstance } from 'fastify'
import { inboxChannel } from '../../queues/contracts.js'
import type { AuthService } from '../auth/index.js'
import { inboxAuth } from './auth.js'
import { createInboxHub } from './hub.js'
import { inboxPage } from './page.js'
import { createInboxRepository } from './repository.js'
import { inboxRoutes, inboxTokenRoutes } from './routes.js'
import { createInboxService, toItem } from './service.js'
import { inboxStream } from './stream.js'
import { createInboxTokens, createSecretSource } from './tokens.js'
import { startInappWorker } from './worker.js'

/**
 * The in-app channel (inapp-service): the worker that stores messages, the inbox API and its live
 * stream, and the inbox page. One Redis subscriber per process carries changes between replicas.
 */
export async function inappModule (app: FastifyInstance, { auth }: { auth: AuthService }): Promise<void> {
  const { config } = app
  const repo = createInboxRepository(app.db)
  // Its own connection: a subscribed connection can do nothing else. Patient, unlike the producer's.
  const subscriber = app.redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null })
  subscriber.on('error', (err) => app.log.debug({ err }, 'redis inbox subscriber connection error'))
  const hub = createInboxHub({
    publisher: app.redis,
    subscriber,
    channel: inboxChannel(config.QUEUE_PREFIX),
    keepAliveMs: config.SSE_KEEPALIVE_MS,
    load: async (box, id) => { const row = await repo.get(box, id); return row && toItem(row) },
    count: async (box) => await repo.unreadCount(box),
    log: app.log
  })
  const service = createInboxService({ repo, hub })
  const tokens = createInboxTokens({ secret: createSecretSource(app.db, config.INBOX_TOKEN_SECRET) })

  await app.register(inboxPage)
  await app.register(async (scope) => {
    inboxAuth(scope, { auth, tokens })
    // Bearer credentials, no cookies: any origin may call, so a developer's own front end can.
    scope.addHook('onSend', async (_request, reply) => { reply.header('access-control-allow-origin', '*') })
    await scope.register(inboxRoutes, { service })
    await scope.register(inboxStream, { hub })
  })
  app.options('/inbox/*', { schema: { response: { 204: { type: 'null', description: 'CORS preflight' } } } }, async (_request, reply) => await reply.code(204).headers({
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'GET, POST',
    'access-control-allow-headers': 'authorization, content-type',
    'access-control-max-age': '600'
  }).send())

  let worker: ReturnType<typeof startInappWorker> | undefined
  app.addHook('onReady', async () => {
    hub.start()
    worker = startInappWorker(app, service)
  })
  // Open streams would hold the server's close forever: end them first; browsers reconnect elsewhere.
  app.addHook('preClose', async () => { hub.closeStreams() })
  app.addHook('onClose', async () => {
    await worker?.close()
    hub.stop()
  })
}

/** POST /recipients/:id/inbox-token, registered by the notification-service inside its API key scope. */
export async function inboxTokensModule (app: FastifyInstance): Promise<void> {
  const tokens = createInboxTokens({ secret: createSecretSource(app.db, app.config.INBOX_TOKEN_SECRET) })
  await app.register(inboxTokenRoutes, { tokens, ttlSeconds: app.config.INBOX_TOKEN_TTL_SECONDS })
}
