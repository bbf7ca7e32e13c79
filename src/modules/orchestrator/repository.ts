import { and, asc, eq, inArray, notInArray, sql } from 'drizzle-orm'
import type { Db } from '../../db/client.js'
import { deliveries, notifications, pushSubscriptions, recipientPreferences, recipients } from '../../db/schema.js'

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]
const FINAL_NOTIFICATION = ['completed', 'failed', 'canceled']

export function createOrchestratorRepository (db: Db) {
  return {
    /** Runs fn with the notification locked, so two jobs for one notification take turns. */
    async withNotification<T> (id: string, fn: (tx: Tx, n: typeof notifications.$inferSelect) => Promise<T>): Promise<T | undefined> {
      return await db.transaction(async (tx) => {
        const [n] = await tx.select().from(notifications).where(eq(notifications.id, id)).for('update')
        return n ? await fn(tx, n) : undefined
      })
    },
    async deliveries (tx: Tx, notificationId: string) {
      return await tx.select().from(deliveries).where(eq(deliveries.notificationId, notificationId)).orderBy(asc(deliveries.position))
    },
    async audience (tx: Tx, tenantId: string, recipientId: string) {
      const [r] = await tx.select().from(recipients).where(and(eq(recipients.tenantId, tenantId), eq(recipients.id, recipientId)))
      const [p] = await tx.select().from(recipientPreferences)
        .where(and(eq(recipientPreferences.tenantId, tenantId), eq(recipientPreferences.recipientId, recipientId)))
      const [subs] = await tx.select({ n: sql<number>`count(*)::int` }).from(pushSubscriptions)
        .where(and(eq(pushSubscriptions.tenantId, tenantId), eq(pushSubscriptions.recipientId, recipientId)))
      return { email: r?.email ?? null, phone: r?.phone ?? null, pushSubscriptions: subs?.n ?? 0, preferences: p }
    },
    /** Moves a delivery that has not started yet; false when it had started or ended meanwhile. */
    async move (tx: Tx, deliveryId: string, status: 'queued' | 'skipped' | 'canceled', reason?: string): Promise<boolean> {
      const rows = await tx.update(deliveries).set({ status, reason: reason ?? null, updatedAt: sql`now()` })
        .where(and(eq(deliveries.id, deliveryId), inArray(deliveries.status, ['pending', 'queued'])))
        .returning({ id: deliveries.id })
      return rows.length > 0
    },
    /** Takes a completed notification back to processing (its success was taken back); a fallback's not-needed channels wait again. */
    async reopen (tx: Tx, id: string, fallback: boolean): Promise<void> {
      await tx.update(notifications).set({ status: 'processing', updatedAt: sql`now()` })
        .where(and(eq(notifications.id, id), eq(notifications.status, 'completed')))
      if (!fallback) return
      await tx.update(deliveries).set({ status: 'pending', reason: null, updatedAt: sql`now()` })
        .where(and(eq(deliveries.notificationId, id), eq(deliveries.status, 'canceled'), eq(deliveries.reason, 'fallback_not_needed')))
    },
    async setStatus (tx: Tx, id: string, status: string): Promise<void> {
      await tx.update(notifications).set({ status, updatedAt: sql`now()` })
        .where(and(eq(notifications.id, id), notInArray(notifications.status, FINAL_NOTIFICATION)))
    }
  }
}
export type OrchestratorRepository = ReturnType<typeof createOrchestratorRepository>
