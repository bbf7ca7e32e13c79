import { Type, type Static } from 'typebox'
import { CHANNELS } from '../../queues/contracts.js'
import { Email, ErrorBody, Locale, Phone, RecipientId, Timezone } from '../../http/schemas.js'

export { ErrorBody }
export const RecipientParams = Type.Object({ id: RecipientId })

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()])
export const RecipientBody = Type.Object({
  email: Type.Optional(Nullable(Email)),
  phone: Type.Optional(Nullable(Phone)),
  locale: Type.Optional(Nullable(Locale)),
  timezone: Type.Optional(Nullable(Timezone))
}, { additionalProperties: false })
export type RecipientBody = Static<typeof RecipientBody>

const ChannelSwitches = Type.Object(Object.fromEntries(CHANNELS.map((c) => [c, Type.Optional(Type.Boolean())])), { additionalProperties: false })
export const Preferences = Type.Object({
  channels: Type.Optional(ChannelSwitches),
  categories: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' }), ChannelSwitches))
}, { additionalProperties: false })
export type Preferences = Static<typeof Preferences>

export const RecipientView = Type.Object({
  id: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  phone: Type.Union([Type.String(), Type.Null()]),
  locale: Type.Union([Type.String(), Type.Null()]),
  timezone: Type.Union([Type.String(), Type.Null()]),
  preferences: Type.Object({ channels: Type.Record(Type.String(), Type.Boolean()), categories: Type.Record(Type.String(), Type.Record(Type.String(), Type.Boolean())) }),
  pushSubscriptions: Type.Array(Type.Object({ id: Type.String(), endpoint: Type.String(), createdAt: Type.String() })),
  createdAt: Type.String(),
  updatedAt: Type.String()
})
export type RecipientView = Static<typeof RecipientView>
