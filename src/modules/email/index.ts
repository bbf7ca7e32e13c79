import type { FastifyInstance } from 'fastify'
import { createNodemailerProvider, type EmailProvider } from '../../providers/email/nodemailer.js'
import { unconfigured } from '../../providers/types.js'
import { startEmailWorker } from './worker.js'

/** The email channel: nodemailer over a pooled SMTP transport. */
export async function emailModule (app: FastifyInstance): Promise<void> {
  const { SMTP_URL, EMAIL_FROM, SMTP_POOL_SIZE, SMTP_TIMEOUT_MS } = app.config
  const provider: EmailProvider = SMTP_URL && EMAIL_FROM
    ? createNodemailerProvider({ url: SMTP_URL, from: EMAIL_FROM, poolSize: SMTP_POOL_SIZE, timeoutMs: SMTP_TIMEOUT_MS })
    : unconfigured('email', 'SMTP_URL and EMAIL_FROM')
  if (!SMTP_URL) app.log.warn('email is not configured (SMTP_URL, EMAIL_FROM): email deliveries will fail with channel_not_configured')
  const domain = EMAIL_FROM?.split('@').pop()?.replace(/[>\s]/g, '') || 'localhost'
  let worker: ReturnType<typeof startEmailWorker> | undefined
  app.addHook('onReady', async () => { worker = startEmailWorker(app, provider, domain) })
  // The worker finishes its active sends before the pool closes.
  app.addHook('onClose', async () => {
    await worker?.close()
    await provider.close()
  })
}
