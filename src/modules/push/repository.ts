import { and, asc, eq, inArray, sql } from 'drizzle-orm'
import type { Db } from '../../db/client.js'
import { pushSubscriptions, recipients, type PushSubscription } from '../../db/schema.js'

export function createPushRepository (db: Db) {
  return {
    /**
     * Stores a subscription by (tenant, endpoint): a browser that subscribes again, perhaps for
     * another recipient, replaces what was stored. Creates the recipient when it is new.
     */
    async upsert (tenantId: string, recipientId: string, s: { endpoint: string, p256dh: string, auth: string }): Promise<PushSubscription> {
      return await db.transaction(async (tx) => {
        await tx.insert(recipients).values({ tenantId, id: recipientId }).onConflictDoNothing()
        const [row] = await tx.insert(pushSubscriptions).values({ tenantId, recipientId, ...s })
          .onConflictDoUpdate({
            target: [pushSubscriptions.tenantId, pushSubscriptions.endpoint],
            set: { recipientId, p256dh: s.p256dh, auth: s.auth }
          })
          .returning()
        await tx.update(recipients).set({ updatedAt: sql`now()` }).where(and(eq(recipients.tenantId, tenantId), eq(recipients.id, recipientId)))
        return row as PushSubscription
      })
    },
    async remove (tenantId: string, recipientId: string, endpoint: string): Promise<boolean> {
      const rows = await db.delete(pushSubscriptions)
        .where(and(eq(pushSubscriptions.tenantId, tenantId), eq(pushSubscriptions.recipientId, recipientId), eq(pushSubscriptions.endpoint, endpoint)))
        .returning({ id: pushSubscriptions.id })
      return rows.length > 0
    },
    async forRecipient (tenantId: string, recipientId: string): Promise<PushSubscription[]> {
      return await db.select().from(pushSubscriptions)
        .where(and(eq(pushSubscriptions.tenantId, tenantId), eq(pushSubscriptions.recipientId, recipientId)))
        .orderBy(asc(pushSubscriptions.createdAt))
    },
    async removeByIds (ids: string[]): Promise<void> {
      if (ids.length > 0) await db.delete(pushSubscriptions).where(inArray(pushSubscriptions.id, ids))
    }
  }
}
export type PushRepository = ReturnType<typeof createPushRepository>
