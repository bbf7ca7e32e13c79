import { Type, type Static } from 'typebox'
import { ErrorBody, RecipientId } from '../../http/schemas.js'

export { ErrorBody }
export const RecipientParams = Type.Object({ id: RecipientId })

/** A browser's `PushSubscription.toJSON()`. The keys' contents are checked in the service, naming the key. */
export const SubscriptionBody = Type.Object({
  endpoint: Type.String({ minLength: 1, maxLength: 2048 }),
  expirationTime: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
  keys: Type.Object({
    p256dh: Type.String({ minLength: 1, maxLength: 200 }),
    auth: Type.String({ minLength: 1, maxLength: 100 })
  }, { additionalProperties: false })
}, { additionalProperties: false })
export type SubscriptionBody = Static<typeof SubscriptionBody>

export const UnsubscribeBody = Type.Object({ endpoint: Type.String({ minLength: 1, maxLength: 2048 }) }, { additionalProperties: false })
export type UnsubscribeBody = Static<typeof UnsubscribeBody>

export const SubscriptionView = Type.Object({
  id: Type.String(),
  recipientId: Type.String(),
  endpoint: Type.String(),
  createdAt: Type.String()
})
export type SubscriptionView = Static<typeof SubscriptionView>

export const VapidKeyView = Type.Object({ publicKey: Type.String() })
