import type { FastifyInstance } from 'fastify'
import { startChannelWorker } from '../../channels/worker.js'
import type { SmsProvider } from '../../providers/sms/twilio.js'
import { ProviderError } from '../../providers/types.js'

/** Sends SMS deliveries: the notification's text, to the recipient's phone as stored when the attempt runs. */
export function startSmsWorker (app: FastifyInstance, provider: SmsProvider) {
  return startChannelWorker(app, 'sms', async ({ notification, recipient }) => {
    const to = recipient?.phone
    if (!to) throw new ProviderError('the recipient has no phone number', { retryable: false, reason: 'no_address' })
    return await provider.send({ to, body: notification.content.text })
  })
}
