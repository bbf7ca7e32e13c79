import type { FastifyInstance } from 'fastify'
import { startChannelWorker } from '../../channels/worker.js'
import type { InboxService } from './service.js'

/**
 * Sends in-app deliveries: storing the message is the send, so a delivery is `sent` once it is in
 * the inbox. The message id is the provider message id. Telling open streams is best effort
 * (the hub falls back to local streams when Redis is away), never a reason to fail the delivery.
 */
export function startInappWorker (app: FastifyInstance, service: InboxService) {
  return startChannelWorker(app, 'inapp', async ({ delivery, notification }) => {
    const { content } = notification
    const messageId = await service.deliver({
      tenantId: notification.tenantId,
      recipientId: notification.recipientId,
      notificationId: notification.id,
      deliveryId: delivery.id,
      title: content.title ?? content.subject ?? null,
      text: content.text,
      url: content.url ?? null,
      data: content.data ?? null
    })
    return { providerMessageId: messageId }
  })
}
