import type { Delivery } from '../../db/schema.js'
import { FINAL_DELIVERY_STATUS, SUCCESS_STATUS, notificationOutcome, type Channel } from '../../queues/contracts.js'
import type { Audience, OrchestratorRepository } from './repository.js'

const isFinal = (d: Delivery) => (FINAL_DELIVERY_STATUS as readonly string[]).includes(d.status)
const isSuccess = (d: Delivery) => (SUCCESS_STATUS as readonly string[]).includes(d.status)

/** Why a delivery cannot go out, or undefined when it can. */
export function skipReason (channel: Channel, category: string, a: Audience): 'preference' | 'no_address' | undefined {
  const prefs = a.preferences
  if (prefs?.channels[channel] === false || prefs?.categories[category]?.[channel] === false) return 'preference'
  const reachable = { email: a.email !== null, sms: a.phone !== null, push: a.pushSubscriptions > 0, inapp: true }
  return reachable[channel] ? undefined : 'no_address'
}

/**
 * Turns a notification into channel deliveries. `all` hands every delivery to its channel at once;
 * `fallback` hands over one at a time, in the order given, and moves on only when one ended
 * without success. Called when the notification is due and again whenever a delivery ends.
 */
export function createOrchestrator ({ repo, enqueue, onSkipped }: {
  repo: OrchestratorRepository
  enqueue: (d: Delivery) => Promise<void>
  onSkipped: (channel: Channel, reason: string) => void
}) {
  async function step (notificationId: string): Promise<void> {
    const toEnqueue: Delivery[] = []
    await repo.withNotification(notificationId, async (tx, n, ds) => {
      if (['failed', 'canceled'].includes(n.status)) return
      // Set when a move found its delivery changed meanwhile: the statuses are then read again.
      let stale = false
      if (n.status === 'completed') {
        // Only a late provider receipt (an SMS undelivered after sent) can take a success back.
        if (ds.some(isSuccess)) return
        // Then a fallback moves on to the channels it had canceled as not needed; `all` just settles again.
        await repo.reopen(tx, n.id, n.strategy === 'fallback')
        n.status = 'processing'
        ds = await repo.deliveries(tx, n.id)
      }
      let audience: Audience | undefined
      const route = async (d: Delivery): Promise<'queued' | 'skipped' | 'gone'> => {
        audience ??= await repo.audience(tx, n.tenantId, n.recipientId)
        const reason = skipReason(d.channel, n.category, audience)
        if (!await repo.move(tx, d.id, reason ? 'skipped' : 'queued', reason)) { stale = true; return 'gone' }
        if (reason) {
          d.status = 'skipped'
          onSkipped(d.channel, reason)
          return 'skipped'
        }
        d.status = 'queued'
        toEnqueue.push(d)
        return 'queued'
      }

      // The first pass routes the deliveries the API created as queued; later passes only make sure
      // their jobs exist (an enqueue lost to a crash after the commit is made good; a job id already in Redis is kept).
      const firstPass = n.status === 'accepted' || n.status === 'scheduled'
      const unrouted = (d: Delivery) => d.status === 'pending' || (firstPass && d.status === 'queued')
      if (n.strategy === 'fallback') {
        const done = ds.find(isSuccess)
        if (done) {
          // One channel got through: the later ones are not needed.
          for (const d of ds) {
            if (d.position <= done.position || d.status !== 'pending') continue
            if (await repo.move(tx, d.id, 'canceled', 'fallback_not_needed')) d.status = 'canceled'
            else stale = true
          }
        }
        for (const d of done ? [] : ds) {
          if (isFinal(d)) continue
          if (!unrouted(d)) {
            if (d.status === 'queued') toEnqueue.push(d)
            break // in flight: the next channel waits for it to end
          }
          if (await route(d) !== 'skipped') break
        }
      } else {
        for (const d of ds) {
          if (unrouted(d)) await route(d)
          else if (d.status === 'queued') toEnqueue.push(d)
        }
      }
      const now = stale ? await repo.deliveries(tx, n.id) : ds
      const status = notificationOutcome(now.map((d) => d.status)) ?? 'processing'
      if (status !== n.status) await repo.setStatus(tx, n.id, status)
    })
    // After the commit, so a worker never sees a delivery still pending. A job id already in Redis is kept.
    for (const d of toEnqueue) await enqueue(d)
  }
  return { orchestrate: step, advance: step }
}
