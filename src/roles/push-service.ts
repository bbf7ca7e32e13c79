import type { FastifyInstance } from 'fastify'
import { pushModule } from '../modules/push/index.js'

/** Worker: sends Web Push deliveries with VAPID. */
export async function pushService (app: FastifyInstance): Promise<void> {
  await app.register(pushModule)
}
