import type { FastifyInstance } from 'fastify'
import { smsModule } from '../modules/sms/index.js'

/** Worker: sends SMS deliveries with Twilio, and receives Twilio's status callbacks. */
export async function smsService (app: FastifyInstance): Promise<void> {
  await app.register(smsModule)
}
