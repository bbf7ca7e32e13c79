import type { FastifyInstance } from 'fastify'
import { ProviderError, type SendResult } from '../providers/types.js'
import { FINAL_DELIVERY_STATUS, JOBS, QUEUES, jobIds, type Channel, type DeliverJob } from '../queues/contracts.js'
import { createDeliveryRepository, type DeliveryContext } from './repository.js'

export type { DeliveryContext }

/**
 * The loop every channel shares: claim the delivery, send it, store the attempt, and tell the
 * orchestrator when it ended. A provider's retryable refusal is thrown so BullMQ retries with
 * backoff; a permanent one, or the last attempt, ends the delivery. A worker killed mid-send leaves
 * the job stalled; BullMQ hands it to another worker, which claims the `sending` delivery again.
 */
export function startChannelWorker (app: FastifyInstance, channel: Channel, send: (ctx: DeliveryContext) => Promise<SendResult>) {
  const repo = createDeliveryRepository(app.db)
  const { metrics, config, queues } = app

  const announce = async (notificationId: string, deliveryId: string, status: string) => {
    await queues.add(QUEUES.orchestrator, JOBS.advance, { notificationId, deliveryId }, { jobId: jobIds.advance(deliveryId, status) })
  }

  return queues.work<DeliverJob>(QUEUES[channel], async (job) => {
    const taken = await repo.take(job.data.deliveryId)
    if (!taken) return
    const { ctx, attempt } = taken
    const { delivery } = ctx
    if ((FINAL_DELIVERY_STATUS as readonly string[]).includes(delivery.status)) {
      // Ended earlier, perhaps by a worker that died before it could say so.
      return await announce(delivery.notificationId, delivery.id, delivery.status)
    }
    if (attempt === undefined) return
    if (delivery.status === 'sending') {
      // The previous attempt's worker died (or lost its lock) before recording anything: say so.
      await repo.recordLost(delivery.id, attempt - 1)
    }

    const started = performance.now()
    let result: SendResult | undefined
    let failure: ProviderError | undefined
    try {
      result = await send(ctx)
    } catch (err) {
      failure = err instanceof ProviderError ? err : new ProviderError((err as Error).message, { retryable: true, reason: 'error' })
    }
    const durationMs = Math.round(performance.now() - started)
    metrics.providerLatency.observe({ channel, outcome: failure ? (failure.retryable ? 'retry' : 'failed') : 'sent' }, durationMs / 1000)

    if (!failure) {
      const providerMessageId = result?.providerMessageId
      await repo.record(delivery.id, { attempt, outcome: 'sent', providerMessageId, durationMs }, { status: 'sent', providerMessageId })
      metrics.deliveries.inc({ channel, status: 'sent' })
      return await announce(delivery.notificationId, delivery.id, 'sent')
    }
    const last = attempt >= config.MAX_ATTEMPTS
    if (failure.retryable && !last) {
      await repo.record(delivery.id, { attempt, outcome: 'retry', reason: failure.reason, error: failure.message, durationMs }, { status: 'queued' })
      throw failure
    }
    const reason = failure.retryable ? 'retries_exhausted' : failure.reason
    await repo.record(delivery.id, { attempt, outcome: 'failed', reason, error: failure.message, durationMs }, { status: 'failed', reason })
    app.log.info({ deliveryId: delivery.id, channel, reason, attempt }, 'delivery failed')
    metrics.deliveries.inc({ channel, status: 'failed' })
    await announce(delivery.notificationId, delivery.id, 'failed')
  })
}
