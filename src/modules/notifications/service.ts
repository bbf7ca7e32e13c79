import { createHash, randomUUID } from 'node:crypto'
import { Errors } from '../../errors.js'
import { JOBS, QUEUES, jobIds, notificationOutcome, queueForChannel, type Channel } from '../../queues/contracts.js'
import type { Queues } from '../../plugins/queues.js'
import { createBatcher } from './batcher.js'
import type { OutboxJob } from './relay.js'
import type { AcceptedRows, NotificationsRepository } from './repository.js'
import type { Accepted, NotificationBody, NotificationView } from './schema.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** JSON with sorted keys, so the same body hashes the same whatever its key order. */
const canonical = (v: unknown): string => Array.isArray(v)
  ? `[${v.map(canonical).join(',')}]`
  : v !== null && typeof v === 'object'
    ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`
    : JSON.stringify(v)

export function createNotificationsService ({ repo, queues, onAccepted }: {
  repo: NotificationsRepository
  queues: Queues
  /** Called after the commit with the job it wrote to the outbox, so it goes to Redis at once rather than at the relay's next poll. */
  onAccepted: (job: OutboxJob) => void
}) {
  // Concurrent requests share a statement: two in flight keep both of PostgreSQL's cores busy on a small machine.
  const inserts = createBatcher((rows: AcceptedRows[]) => repo.insertAccepted(rows), { maxBatch: 100, maxInFlight: 2 })
  return {
    async accept (tenantId: string, body: NotificationBody, idempotencyKey?: string): Promise<Accepted> {
      const sendAt = body.sendAt ? new Date(body.sendAt) : null
      const scheduled = sendAt !== null && sendAt.getTime() > Date.now()
      const strategy = body.strategy ?? 'all'
      const requestHash = idempotencyKey ? createHash('sha256').update(canonical(body)).digest('hex') : undefined
      // Ids are made here, so the notification is part of one INSERT statement and the response needs nothing back.
      const id = randomUUID()
      const accepted: Accepted = {
        id,
        status: scheduled ? 'scheduled' : 'accepted',
        deliveries: body.channels.map((channel, i) => ({
          id: randomUUID(),
          channel,
          status: scheduled || (strategy === 'fallback' && i > 0) ? 'pending' : 'queued'
        }))
      }
      const rows: AcceptedRows = {
        id,
        tenantId,
        recipient: body.recipient,
        status: accepted.status,
        deliveries: accepted.deliveries as AcceptedRows['deliveries'],
        strategy,
        category: body.category ?? 'default',
        priority: body.priority,
        content: body.content,
        sendAt,
        idempotencyKey,
        requestHash,
        acceptedResponse: idempotencyKey ? accepted : undefined,
        job: { queue: QUEUES.orchestrator, jobName: JOBS.orchestrate, jobId: jobIds.orchestrate(id), payload: { notificationId: id }, runAt: scheduled ? sendAt : null }
      }
      if (!idempotencyKey) {
        onAccepted({ outboxId: await inserts.write(rows), ...rows.job })
        return accepted
      }

      const response = await repo.transaction(async (tx) => {
        if (!await repo.tryLockKey(tx, tenantId, idempotencyKey)) throw new Errors.IdempotencyInFlight()
        const earlier = await repo.findByKey(tx, tenantId, idempotencyKey)
        if (earlier) {
          if (earlier.requestHash !== requestHash) throw new Errors.IdempotencyMismatch()
          return { replay: true, accepted: earlier.acceptedResponse as Accepted }
        }
        const [outboxId] = await repo.insertAccepted([rows], tx)
        return { replay: false, accepted, outboxId }
      })
      if (response.outboxId !== undefined) onAccepted({ outboxId: response.outboxId, ...rows.job })
      return response.accepted
    },

    async get (tenantId: string, id: string): Promise<NotificationView> {
      const n = UUID.test(id) ? await repo.get(tenantId, id) : undefined
      if (!n) throw new Errors.NotFound('notification')
      return {
        id: n.id,
        status: n.status,
        recipient: { id: n.recipientId },
        category: n.category,
        strategy: n.strategy,
        createdAt: n.createdAt.toISOString(),
        sendAt: n.sendAt?.toISOString() ?? null,
        deliveries: n.deliveries.map((d) => ({
          id: d.id,
          channel: d.channel,
          status: d.status,
          reason: d.reason,
          attempts: d.attempts,
          providerMessageId: d.providerMessageId,
          updatedAt: d.updatedAt.toISOString()
        }))
      }
    },

    /** Cancels every delivery not yet handed to a channel worker; 409 when none is left. */
    async cancel (tenantId: string, id: string): Promise<NotificationView> {
      if (!UUID.test(id)) throw new Errors.NotFound('notification')
      const canceled = await repo.transaction(async (tx) => {
        if (!await repo.lockForCancel(tx, tenantId, id)) throw new Errors.NotFound('notification')
        const rows = await repo.cancelOpenDeliveries(tx, id)
        if (rows.length === 0) throw new Errors.NothingToCancel()
        const outcome = notificationOutcome(await repo.deliveryStatuses(tx, id))
        if (outcome) {
          await repo.setStatus(tx, id, outcome)
          await repo.deleteOutboxFor(tx, jobIds.orchestrate(id))
        }
        return { rows, settled: outcome !== undefined }
      })
      // The workers skip canceled deliveries anyway; removing their jobs only saves them the look.
      await Promise.allSettled([
        ...canceled.rows.map((d) => queues.remove(queueForChannel(d.channel as Channel), jobIds.deliver(d.id))),
        ...(canceled.settled ? [queues.remove(QUEUES.orchestrator, jobIds.orchestrate(id))] : [])
      ])
      return await this.get(tenantId, id)
    }
  }
}
export type NotificationsService = ReturnType<typeof createNotificationsService>
