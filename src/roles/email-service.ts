import type { FastifyInstance } from 'fastify'
import { emailModule } from '../modules/email/index.js'

/** Worker: sends email deliveries over SMTP. */
export async function emailService (app: FastifyInstance): Promise<void> {
  await app.register(emailModule)
}
