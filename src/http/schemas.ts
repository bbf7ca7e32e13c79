import { Type } from 'typebox'

/** Field shapes more than one module's API accepts. */
export const E164 = '^\\+[1-9][0-9]{1,14}$'
export const Email = Type.String({ format: 'email', maxLength: 320 })
export const Phone = Type.String({ pattern: E164, description: 'E.164, for example +15005550006' })
export const Locale = Type.String({ minLength: 2, maxLength: 35, pattern: '^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$' })
export const Timezone = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_+\\-/]+$' })
export const RecipientId = Type.String({ minLength: 1, maxLength: 255 })

export const ErrorBody = Type.Object({
  statusCode: Type.Integer(), code: Type.String(), error: Type.String(), message: Type.String()
})
