import { Type, type Static } from 'typebox'
import { Email, ErrorBody, Locale, Phone, RecipientId, Timezone } from '../../http/schemas.js'
import { CHANNELS } from '../../queues/contracts.js'

export { ErrorBody }

export const NotificationBody = Type.Object({
  recipient: Type.Object({
    id: RecipientId,
    email: Type.Optional(Email),
    phone: Type.Optional(Phone),
    locale: Type.Optional(Locale),
    timezone: Type.Optional(Timezone)
  }, { additionalProperties: false }),
  channels: Type.Array(Type.Enum([...CHANNELS]), { minItems: 1, maxItems: 4, uniqueItems: true }),
  strategy: Type.Optional(Type.Enum(['all', 'fallback'])),
  category: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' })),
  priority: Type.Optional(Type.Enum(['low', 'normal', 'high'])),
  content: Type.Object({
    subject: Type.Optional(Type.String({ maxLength: 998 })),
    text: Type.String({ minLength: 1, maxLength: 20000 }),
    html: Type.Optional(Type.String({ maxLength: 200000 })),
    title: Type.Optional(Type.String({ maxLength: 255 })),
    url: Type.Optional(Type.String({ format: 'uri', maxLength: 2048 })),
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown()))
  }, { additionalProperties: false }),
  sendAt: Type.Optional(Type.String({ format: 'date-time' }))
}, { additionalProperties: false })
export type NotificationBody = Static<typeof NotificationBody>

const DeliveryStatus = Type.String()
export const Accepted = Type.Object({
  id: Type.String(),
  status: Type.Union([Type.Literal('accepted'), Type.Literal('scheduled')]),
  deliveries: Type.Array(Type.Object({ id: Type.String(), channel: Type.String(), status: DeliveryStatus }))
})
export type Accepted = Static<typeof Accepted>

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()])
export const NotificationView = Type.Object({
  id: Type.String(),
  status: Type.String(),
  recipient: Type.Object({ id: Type.String() }),
  category: Type.String(),
  strategy: Type.String(),
  createdAt: Type.String(),
  sendAt: Nullable(Type.String()),
  deliveries: Type.Array(Type.Object({
    id: Type.String(),
    channel: Type.String(),
    status: DeliveryStatus,
    reason: Nullable(Type.String()),
    attempts: Type.Integer(),
    providerMessageId: Nullable(Type.String()),
    updatedAt: Type.String()
  }))
})
export type NotificationView = Static<typeof NotificationView>

export const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) })
export const IdempotencyHeaders = Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) })
