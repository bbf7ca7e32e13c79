import formbody from '@fastify/formbody'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { Errors } from '../../errors.js'
import { ErrorBody } from '../../http/schemas.js'
import { isTwilioSignatureValid } from '../../providers/sms/twilio.js'
import type { StatusService } from './service.js'

// Twilio sends more fields (AccountSid, To, From, SmsSid, …): they are signed, so they are kept, not refused.
const StatusCallbackBody = Type.Object({
  MessageSid: Type.String({ pattern: '^(SM|MM)[0-9a-fA-F]{32}$' }),
  MessageStatus: Type.String({ minLength: 1, maxLength: 32 }),
  ErrorCode: Type.Optional(Type.String({ pattern: '^[0-9]{1,10}$' }))
})

/**
 * Twilio's status callbacks. Form-encoded, so this scope (and only it) parses form bodies.
 * The signature is checked before the body is validated: an unsigned request learns nothing.
 */
export const twilioWebhookRoutes: FastifyPluginAsyncTypebox<{ status: StatusService, authToken?: string, callbackUrl?: string }> = async (app, { status, authToken, callbackUrl }) => {
  await app.register(formbody)
  app.post('/webhooks/twilio/status', {
    schema: { body: StatusCallbackBody, response: { 204: Type.Null(), 400: ErrorBody, 403: ErrorBody, 404: ErrorBody } },
    preValidation: async (request) => {
      if (!authToken || !callbackUrl) {
        throw new Errors.TwilioSignatureInvalid('Twilio status callbacks are not configured here: set TWILIO_AUTH_TOKEN and TWILIO_STATUS_CALLBACK_URL')
      }
      const signature = request.headers['x-twilio-signature']
      const params = typeof request.body === 'object' && request.body !== null ? request.body as Record<string, unknown> : {}
      if (typeof signature !== 'string' || !isTwilioSignatureValid(authToken, signature, callbackUrl, params)) {
        throw new Errors.TwilioSignatureInvalid('X-Twilio-Signature is missing or not valid for TWILIO_STATUS_CALLBACK_URL')
      }
    }
  }, async (request, reply) => {
    await status.apply(request.body)
    return await reply.code(204).send(null)
  })
}
