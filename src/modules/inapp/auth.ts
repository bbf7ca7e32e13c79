import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Errors } from '../../errors.js'
import { bearer, type AuthService } from '../auth/index.js'
import type { Inbox } from './repository.js'
import { looksLikeInboxToken, type InboxTokens } from './tokens.js'

/** Who is reading: a tenant's back end (API key), or one recipient (inbox token). */
export interface InboxViewer { tenantId: string, recipientId?: string }

declare module 'fastify' {
  interface FastifyRequest { inboxViewer: InboxViewer }
}

/**
 * Every route of the scope takes `Authorization: Bearer <API key | inbox token>`, or the token
 * as `?token=` (EventSource cannot set headers). API keys are refused in the query string: URLs
 * end up in logs and browser history. A token for another recipient's inbox gets 404, as another
 * tenant's ids do: it learns nothing, not even that the inbox exists.
 */
export function inboxAuth (app: FastifyInstance, { auth, tokens }: { auth: AuthService, tokens: InboxTokens }): void {
  app.decorateRequest('inboxViewer', null as unknown as InboxViewer)
  app.addHook('onRequest', async (request) => {
    const header = bearer(request)
    const fromQuery = (request.query as Record<string, unknown> | undefined)?.token
    const credential = header ?? (typeof fromQuery === 'string' && fromQuery !== '' ? fromQuery : undefined)
    if (!credential) throw new Errors.Unauthorized()
    if (looksLikeInboxToken(credential)) {
      const claims = await tokens.verify(credential)
      if (!claims) throw new Errors.InvalidToken()
      if ((request.params as { recipientId?: string }).recipientId !== claims.recipientId) throw new Errors.NotFound('inbox')
      request.inboxViewer = { tenantId: claims.tenantId, recipientId: claims.recipientId }
      return
    }
    if (header === undefined) throw new Errors.InvalidToken()
    const tenantId = await auth.tenantForKey(credential)
    if (!tenantId) throw new Errors.Unauthorized()
    request.inboxViewer = { tenantId }
  })
}

export const inboxOf = (request: FastifyRequest<{ Params: { recipientId: string } }>): Inbox =>
  ({ tenantId: request.inboxViewer.tenantId, recipientId: request.params.recipientId })

export const bySelf = (request: FastifyRequest): boolean => request.inboxViewer.recipientId !== undefined
