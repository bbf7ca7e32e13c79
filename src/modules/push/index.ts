import type { FastifyInstance } from 'fastify'

// Being written (issue 3): the web-push sender and the subscription routes.
export async function pushModule (_app: FastifyInstance): Promise<void> {}
export async function pushSubscriptionsModule (_app: FastifyInstance, _opts: { part: 'public' | 'authenticated' }): Promise<void> {}
