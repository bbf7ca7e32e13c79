import createError from '@fastify/error'

/** Every coded error of the API in one place. */
export const Errors = {
  Unauthorized: createError('UNAUTHORIZED', 'A valid API key is required (Authorization: Bearer <key>)', 401),
  InvalidToken: createError('INVALID_TOKEN', 'The inbox token is invalid or expired', 401),
  NotFound: createError('NOT_FOUND', '%s not found', 404),
  NothingToCancel: createError('NOTHING_TO_CANCEL', 'Nothing is left to cancel: every delivery has started or ended', 409),
  IdempotencyInFlight: createError('IDEMPOTENCY_IN_FLIGHT', 'A request with this Idempotency-Key is still being processed', 409),
  IdempotencyMismatch: createError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different body', 422),
  Unavailable: createError('UNAVAILABLE', 'The system cannot durably accept the request right now: %s', 503),
  InvalidInput: createError('INVALID_INPUT', '%s', 400),
  PushEndpointRefused: createError('PUSH_ENDPOINT_REFUSED', 'body/endpoint %s', 400),
  PushNotConfigured: createError('PUSH_NOT_CONFIGURED', 'Web Push is not configured here: set %s', 503),
  TwilioSignatureInvalid: createError('INVALID_TWILIO_SIGNATURE', '%s', 403),
  UnknownMessageSid: createError('UNKNOWN_MESSAGE_SID', 'No SMS delivery has MessageSid %s', 404)
}
