import type { FastifyInstance } from 'fastify'
import { createOutboxRelay } from './relay.js'
import { createNotificationsRepository } from './repository.js'
import { notificationsRoutes } from './routes.js'
import { createNotificationsService } from './service.js'

/** The notifications API and the outbox relay that hands accepted notifications to the orchestrator. */
export async function notificationsModule (app: FastifyInstance): Promise<void> {
  const relay = createOutboxRelay({ db: app.db, queues: app.queues, log: app.log, pollMs: app.config.OUTBOX_POLL_MS })
  const service = createNotificationsService({ repo: createNotificationsRepository(app.db), queues: app.queues, onAccepted: relay.send })
  await app.register(notificationsRoutes, { service })
  app.addHook('onReady', async () => { relay.start() })
  app.addHook('preClose', async () => { await relay.stop() })
}
