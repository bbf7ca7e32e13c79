import type { FastifyInstance } from 'fastify'
import { startChannelWorker } from '../../channels/worker.js'
import type { EmailProvider } from '../../providers/email/nodemailer.js'

/** Sends email deliveries: subject falls back to the title, then to the start of the text. */
export function startEmailWorker (app: FastifyInstance, provider: EmailProvider, domain: string) {
  return startChannelWorker(app, 'email', async ({ delivery, notification, recipient }) => {
    const { content } = notification
    return await provider.send({
      to: recipient?.email ?? '',
      subject: content.subject ?? content.title ?? content.text.slice(0, 78),
      text: content.text,
      html: content.html,
      messageId: `<${delivery.id}@${domain}>`
    })
  })
}
