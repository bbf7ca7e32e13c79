import type { FastifyInstance } from 'fastify'
import { createTwilioProvider, type SmsProvider } from '../../providers/sms/twilio.js'
import { unconfigured } from '../../providers/types.js'
import { createSmsRepository } from './repository.js'
import { twilioWebhookRoutes } from './routes.js'
import { createStatusService } from './service.js'
import { startSmsWorker } from './worker.js'

/** The SMS channel: Twilio's Messages API, and its status callbacks moving deliveries to delivered or failed. */
export async function smsModule (app: FastifyInstance): Promise<void> {
  const { TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM, TWILIO_API_BASE_URL, TWILIO_STATUS_CALLBACK_URL } = app.config
  const configured = Boolean(TWILIO_ACCOUNT_SID && TWILIO_AUTH_TOKEN && TWILIO_FROM)
  const provider: SmsProvider = configured
    ? createTwilioProvider({
      accountSid: TWILIO_ACCOUNT_SID as string,
      authToken: TWILIO_AUTH_TOKEN as string,
      from: TWILIO_FROM as string,
      apiBaseUrl: TWILIO_API_BASE_URL,
      statusCallbackUrl: TWILIO_STATUS_CALLBACK_URL
    })
    : unconfigured('sms', 'TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM')
  if (!configured) app.log.warn('sms is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM): sms deliveries will fail with channel_not_configured')
  else if (!TWILIO_STATUS_CALLBACK_URL) app.log.info('TWILIO_STATUS_CALLBACK_URL is not set: sms deliveries stay "sent" (no delivery receipts)')

  const status = createStatusService({ repo: createSmsRepository(app.db), queues: app.queues, metrics: app.metrics, log: app.log })
  await app.register(twilioWebhookRoutes, { status, authToken: TWILIO_AUTH_TOKEN, callbackUrl: TWILIO_STATUS_CALLBACK_URL })

  let worker: ReturnType<typeof startSmsWorker> | undefined
  app.addHook('onReady', async () => { worker = startSmsWorker(app, provider) })
  app.addHook('onClose', async () => {
    await worker?.close()
    await provider.close()
  })
}
