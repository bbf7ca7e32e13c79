import { Type, type Static } from 'typebox'
import { ErrorBody, RecipientId } from '../../http/schemas.js'

export { ErrorBody }

export const STATUSES = ['all', 'unread', 'read', 'archived'] as const
export type InboxStatus = typeof STATUSES[number]

export const InboxParams = Type.Object({ recipientId: RecipientId })
export const MessageParams = Type.Object({ recipientId: RecipientId, messageId: Type.String({ format: 'uuid' }) })

// Query strings arrive as text and the app does not coerce types: the service reads `limit`, so
// its error can say "an integer from 1 to 100" rather than quote a pattern.
export const ListQuery = Type.Object({
  status: Type.Optional(Type.Enum([...STATUSES], { default: 'all' })),
  limit: Type.Optional(Type.String({ maxLength: 12, description: 'an integer from 1 to 100 (default 20)' })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, pattern: '^[A-Za-z0-9_-]+$' })),
  token: Type.Optional(Type.String())
}, { additionalProperties: false })
export type ListQuery = Static<typeof ListQuery>

/** Every other inbox route takes at most the token in its query string. */
export const TokenQuery = Type.Object({ token: Type.Optional(Type.String()) }, { additionalProperties: false })

const Time = Type.Union([Type.String({ format: 'date-time' }), Type.Null()])
export const InboxItem = Type.Object({
  id: Type.String(),
  notificationId: Type.String(),
  title: Type.Union([Type.String(), Type.Null()]),
  text: Type.String(),
  url: Type.Union([Type.String(), Type.Null()]),
  data: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  seenAt: Time,
  readAt: Time,
  archivedAt: Time
})
export type InboxItem = Static<typeof InboxItem>

export const InboxPage = Type.Object({ items: Type.Array(InboxItem), nextCursor: Type.Union([Type.String(), Type.Null()]) })
export const UnreadCount = Type.Object({ count: Type.Integer() })
export const ReadAll = Type.Object({ updated: Type.Integer(), count: Type.Integer() })
export const TokenView = Type.Object({ token: Type.String(), expiresAt: Type.String({ format: 'date-time' }) })
export const TokenParams = Type.Object({ id: RecipientId })

export const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody }
