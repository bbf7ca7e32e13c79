import type { FastifyInstance } from 'fastify'
import { createAuth } from '../modules/auth/index.js'
import { inappModule } from '../modules/inapp/index.js'

/** Worker and API: stores in-app messages, serves the inbox, its live stream and its page. */
export async function inappService (app: FastifyInstance): Promise<void> {
  await app.register(inappModule, { auth: createAuth(app.db) })
}
