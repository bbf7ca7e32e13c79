import { Errors } from '../../errors.js'
import { checkPushEndpoint, subscriptionKeysProblem } from '../../providers/push/web-push.js'
import type { PushRepository } from './repository.js'
import type { SubscriptionBody, SubscriptionView } from './schema.js'

/** Subscriptions: checked (keys, then the endpoint's address) before they are stored. */
export function createSubscriptionsService ({ repo, allowPrivate }: { repo: PushRepository, allowPrivate: boolean }) {
  return {
    async subscribe (tenantId: string, recipientId: string, body: SubscriptionBody): Promise<SubscriptionView> {
      const problem = subscriptionKeysProblem(body.keys)
      if (problem) throw new Errors.InvalidInput(`body/${problem}`)
      const check = await checkPushEndpoint(body.endpoint, { allowPrivate })
      if (!check.allowed) throw new Errors.PushEndpointRefused(check.why)
      // Stored canonical (base64url, no padding; the URL as parsed), so a re-subscribe matches.
      const row = await repo.upsert(tenantId, recipientId, {
        endpoint: check.url.href,
        p256dh: Buffer.from(body.keys.p256dh, 'base64url').toString('base64url'),
        auth: Buffer.from(body.keys.auth, 'base64url').toString('base64url')
      })
      return { id: row.id, recipientId: row.recipientId, endpoint: row.endpoint, createdAt: row.createdAt.toISOString() }
    },
    async unsubscribe (tenantId: string, recipientId: string, endpoint: string): Promise<void> {
      let canonical = endpoint
      try { canonical = new URL(endpoint).href } catch { /* stored ones are all URLs: not found */ }
      if (!await repo.remove(tenantId, recipientId, canonical)) throw new Errors.NotFound('push subscription')
    }
  }
}
export type SubscriptionsService = ReturnType<typeof createSubscriptionsService>
