import type { FastifyInstance } from 'fastify'

// Being written (issue 3): the twilio sender and the status webhook.
export async function smsModule (_app: FastifyInstance): Promise<void> {}
