import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { bySelf, inboxOf } from './auth.js'
import { ErrorBody, InboxItem, InboxPage, InboxParams, ListQuery, MessageParams, ReadAll, TokenParams, TokenQuery, TokenView, UnreadCount, errors } from './schema.js'
import type { InboxService } from './service.js'
import type { InboxTokens } from './tokens.js'

/** The inbox API; authentication is the scope's (see auth.ts). */
export const inboxRoutes: FastifyPluginAsyncTypebox<{ service: InboxService }> = async (app, { service }) => {
  app.get('/inbox/:recipientId/messages', {
    schema: { params: InboxParams, querystring: ListQuery, response: { 200: InboxPage, ...errors } }
  }, async (request) => await service.list(inboxOf(request), request.query, bySelf(request)))

  app.get('/inbox/:recipientId/unread-count', {
    schema: { params: InboxParams, querystring: TokenQuery, response: { 200: UnreadCount, ...errors } }
  }, async (request) => await service.unreadCount(inboxOf(request)))

  for (const change of ['read', 'unread', 'archive'] as const) {
    app.post(`/inbox/:recipientId/messages/:messageId/${change}`, {
      schema: { params: MessageParams, querystring: TokenQuery, response: { 200: InboxItem, ...errors } }
    }, async (request) => await service.change(inboxOf(request), request.params.messageId, change))
  }

  app.post('/inbox/:recipientId/read-all', {
    schema: { params: InboxParams, querystring: TokenQuery, response: { 200: ReadAll, ...errors } }
  }, async (request) => await service.readAll(inboxOf(request)))
}

/** Part of the public API (API key scope): a token a browser can use for one recipient's inbox. */
export const inboxTokenRoutes: FastifyPluginAsyncTypebox<{ tokens: InboxTokens, ttlSeconds: number }> = async (app, { tokens, ttlSeconds }) => {
  app.post('/recipients/:id/inbox-token', {
    schema: { params: TokenParams, response: { 200: TokenView, ...errors, 429: ErrorBody } }
  }, async (request) => {
    const { token, expiresAt } = await tokens.issue(request.tenantId, request.params.id, ttlSeconds)
    return { token, expiresAt: expiresAt.toISOString() }
  })
}
