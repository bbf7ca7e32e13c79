import type { FastifyInstance } from 'fastify'
import type { AuthService } from '../auth/index.js'

// Being written (issue 3): the inbox, its stream and page, and inbox tokens.
export async function inappModule (_app: FastifyInstance, _opts: { auth: AuthService }): Promise<void> {}
export async function inboxTokensModule (_app: FastifyInstance): Promise<void> {}
