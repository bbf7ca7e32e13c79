import type { FastifyInstance } from 'fastify'
import { createRecipientsRepository } from './repository.js'
import { recipientsRoutes } from './routes.js'
import { createRecipientsService } from './service.js'

/** Recipients: their addresses and their preferences. */
export async function recipientsModule (app: FastifyInstance): Promise<void> {
  await app.register(recipientsRoutes, { service: createRecipientsService({ repo: createRecipientsRepository(app.db) }) })
}
