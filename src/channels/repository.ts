import { and, eq, inArray, sql } from 'drizzle-orm'
import type { Db } from '../db/client.js'
import { deliveries, deliveryAttempts, notifications, recipients } from '../db/schema.js'

const p = (name: string) => sql.placeholder(name)

/**
 * The rows a channel worker reads and writes: its delivery, what to send, and one row per attempt.
 * The statements every delivery runs are prepared once (named statements): drizzle builds their
 * SQL once, and PostgreSQL parses and plans them once per connection, which costs a fraction of a
 * query built and parsed anew each time.
 */
export function createDeliveryRepository (db: Db) {
  // The delivery claimed for one attempt (if it is still queued, or sending after a lost worker)
  // and read with what to send, in one statement. The read shows the delivery as it was before.
  const claimed = db.$with('claimed').as(db.update(deliveries)
    .set({ status: 'sending', attempts: sql`${deliveries.attempts} + 1`, updatedAt: sql`now()` })
    .where(and(eq(deliveries.id, p('id')), inArray(deliveries.status, ['queued', 'sending'])))
    .returning({ attempts: deliveries.attempts }))
  const take = db.with(claimed)
    .select({ delivery: deliveries, notification: notifications, recipient: recipients, attempt: sql<number | null>`(select ${claimed.attempts} from ${claimed})` })
    .from(deliveries)
    .innerJoin(notifications, eq(notifications.id, deliveries.notificationId))
    .leftJoin(recipients, and(eq(recipients.tenantId, notifications.tenantId), eq(recipients.id, notifications.recipientId)))
    .where(eq(deliveries.id, p('id')))
    .prepare('channel_delivery_take')
  // The attempt and the delivery's new status in one statement: atomic without a transaction.
  const attempt = db.$with('attempt').as(db.insert(deliveryAttempts).values({
    deliveryId: p('id'), attempt: p('attempt'), outcome: p('outcome'), reason: p('reason'), error: p('error'), providerMessageId: p('attemptMessageId'), durationMs: p('durationMs')
  }))
  const record = db.with(attempt).update(deliveries)
    .set({ status: sql`${p('status')}`, reason: sql`${p('nextReason')}`, providerMessageId: sql`coalesce(${p('nextMessageId')}, ${deliveries.providerMessageId})`, updatedAt: sql`now()` })
    .where(and(eq(deliveries.id, p('id')), eq(deliveries.status, 'sending')))
    .prepare('channel_delivery_record')

  return {
    /**
     * The delivery, what to send and to whom, and the attempt it was claimed for: undefined when
     * it was not claimed (canceled, or ended meanwhile; `delivery.status` says which).
     */
    async take (deliveryId: string) {
      const [row] = await take.execute({ id: deliveryId })
      if (!row) return undefined
      const { attempt, ...ctx } = row
      return { ctx, attempt: attempt ?? undefined }
    },
    async recordLost (deliveryId: string, attempt: number): Promise<void> {
      if (attempt < 1) return
      await db.insert(deliveryAttempts).values({ deliveryId, attempt, outcome: 'retry', reason: 'worker_lost', error: 'the worker stopped before the attempt ended', durationMs: 0 })
    },
    async record (deliveryId: string, attempt: { attempt: number, outcome: 'sent' | 'retry' | 'failed', reason?: string, error?: string, providerMessageId?: string, durationMs: number }, next: { status: string, reason?: string, providerMessageId?: string }): Promise<void> {
      await record.execute({
        id: deliveryId,
        attempt: attempt.attempt,
        outcome: attempt.outcome,
        reason: attempt.reason ?? null,
        error: attempt.error ?? null,
        attemptMessageId: attempt.providerMessageId ?? null,
        durationMs: attempt.durationMs,
        status: next.status,
        nextReason: next.reason ?? null,
        nextMessageId: next.providerMessageId ?? null
      })
    }
  }
}
export type DeliveryRepository = ReturnType<typeof createDeliveryRepository>
export type DeliveryContext = NonNullable<Awaited<ReturnType<DeliveryRepository['take']>>>['ctx']
