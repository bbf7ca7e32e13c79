import type { FastifyInstance } from 'fastify'
import { startChannelWorker } from '../../channels/worker.js'
import type { PushOptions, PushProvider } from '../../providers/push/web-push.js'
import { ProviderError } from '../../providers/types.js'
import type { PushRepository } from './repository.js'

const HOUR = 3600
/** How long a push service keeps trying to reach an offline browser, and how hard it tries. */
export function pushOptions (priority: 'low' | 'normal' | 'high' | null): PushOptions {
  if (priority === 'high') return { TTL: 24 * HOUR, urgency: 'high' }
  if (priority === 'low') return { TTL: HOUR, urgency: 'low' }
  return { TTL: 24 * HOUR, urgency: 'normal' }
}

const asProviderError = (e: unknown) => e instanceof ProviderError ? e : new ProviderError(String((e as Error)?.message ?? e), { retryable: true, reason: 'error' })

/**
 * One send per subscription of the recipient; the delivery succeeds when one does. Subscriptions
 * answered 404/410 are deleted. A retry happens only when none succeeded, so no browser that got
 * the message gets it twice; once one succeeded, the others' passing failures are not retried.
 */
export function startPushWorker (app: FastifyInstance, provider: PushProvider, repo: PushRepository) {
  return startChannelWorker(app, 'push', async ({ delivery, notification: n }) => {
    const subs = await repo.forRecipient(n.tenantId, n.recipientId)
    if (subs.length === 0) throw new ProviderError('the recipient has no push subscriptions', { retryable: false, reason: 'no_address' })
    const { content } = n
    const payload = { title: content.title ?? content.subject, text: content.text, url: content.url, data: content.data, notificationId: n.id }
    const options = pushOptions(n.priority)
    const results = await Promise.allSettled(subs.map(async (s) => await provider.send({ endpoint: s.endpoint, keys: { p256dh: s.p256dh, auth: s.auth } }, payload, options)))

    const failures = results.flatMap((r, i) => r.status === 'rejected' ? [{ sub: subs[i]!, err: asProviderError(r.reason) }] : [])
    const gone = failures.filter((f) => f.err.reason === 'subscription_gone')
    await repo.removeByIds(gone.map((f) => f.sub.id))
    for (const f of failures) app.log.info({ deliveryId: delivery.id, subscriptionId: f.sub.id, reason: f.err.reason, err: f.err.message }, 'push to one subscription failed')

    const sent = results.find((r) => r.status === 'fulfilled')
    if (sent) return sent.value
    const summary = `${failures.length} of ${subs.length} subscriptions: ` + failures.map((f) => f.err.message).join('; ').slice(0, 500)
    const retry = failures.filter((f) => f.err.retryable)
    if (retry.length > 0) {
      const waits = retry.map((f) => f.err.retryAfterMs).filter((ms): ms is number => ms !== undefined)
      throw new ProviderError(summary, { retryable: true, reason: retry[0]!.err.reason, retryAfterMs: waits.length > 0 ? Math.max(...waits) : undefined })
    }
    const other = failures.find((f) => f.err.reason !== 'subscription_gone')
    throw new ProviderError(summary, { retryable: false, reason: other?.err.reason ?? 'subscription_gone' })
  })
}
