import { and, eq, inArray, sql } from 'drizzle-orm'
import type { Db } from '../db/client.js'
import { deliveries, deliveryAttempts, notifications, recipients } from '../db/schema.js'

/** The rows a channel worker reads and writes: its delivery, what to send, and one row per attempt. */
export function createDeliveryRepository (db: Db) {
  return {
    async load (deliveryId: string) {
      const [row] = await db.select({ delivery: deliveries, notification: notifications, recipient: recipients })
        .from(deliveries)
        .innerJoin(notifications, eq(notifications.id, deliveries.notificationId))
        .leftJoin(recipients, and(eq(recipients.tenantId, notifications.tenantId), eq(recipients.id, notifications.recipientId)))
        .where(eq(deliveries.id, deliveryId))
      return row
    },
    /** Takes the delivery for one attempt; undefined when it was canceled or ended meanwhile. */
    async claim (deliveryId: string): Promise<number | undefined> {
      const [row] = await db.update(deliveries)
        .set({ status: 'sending', attempts: sql`${deliveries.attempts} + 1`, updatedAt: sql`now()` })
        .where(and(eq(deliveries.id, deliveryId), inArray(deliveries.status, ['queued', 'sending'])))
        .returning({ attempts: deliveries.attempts })
      return row?.attempts
    },
    async recordLost (deliveryId: string, attempt: number): Promise<void> {
      if (attempt < 1) return
      await db.insert(deliveryAttempts).values({ deliveryId, attempt, outcome: 'retry', reason: 'worker_lost', error: 'the worker stopped before the attempt ended', durationMs: 0 })
    },
    async record (deliveryId: string, attempt: { attempt: number, outcome: 'sent' | 'retry' | 'failed', reason?: string, error?: string, providerMessageId?: string, durationMs: number }, next: { status: string, reason?: string, providerMessageId?: string }): Promise<void> {
      await db.transaction(async (tx) => {
        await tx.insert(deliveryAttempts).values({ deliveryId, ...attempt })
        await tx.update(deliveries)
          .set({ status: next.status, reason: next.reason ?? null, providerMessageId: next.providerMessageId, updatedAt: sql`now()` })
          .where(and(eq(deliveries.id, deliveryId), eq(deliveries.status, 'sending')))
      })
    }
  }
}
export type DeliveryRepository = ReturnType<typeof createDeliveryRepository>
export type DeliveryContext = NonNullable<Awaited<ReturnType<DeliveryRepository['load']>>>
