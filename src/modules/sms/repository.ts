import { and, eq, sql } from 'drizzle-orm'
import type { Db } from '../../db/client.js'
import { deliveries, deliveryAttempts, type Delivery } from '../../db/schema.js'

export function createSmsRepository (db: Db) {
  return {
    /** The SMS delivery with this Twilio SID, unchanged. */
    async find (sid: string): Promise<{ delivery: Delivery, changed: false } | undefined> {
      const [d] = await db.select().from(deliveries).where(and(eq(deliveries.providerMessageId, sid), eq(deliveries.channel, 'sms')))
      return d ? { delivery: d, changed: false } : undefined
    },
    /**
     * Moves the SMS delivery with this Twilio SID from `sent` to `next`: only from `sent`, so a
     * `delivered` is never taken back and a repeated callback changes nothing. A failure is stored
     * as the outcome of the attempt that sent it. Undefined when no SMS delivery has the SID.
     */
    async moveFromSent (sid: string, next: { status: 'delivered' | 'failed', reason?: string, error?: string }): Promise<{ delivery: Delivery, changed: boolean } | undefined> {
      return await db.transaction(async (tx) => {
        const [d] = await tx.select().from(deliveries)
          .where(and(eq(deliveries.providerMessageId, sid), eq(deliveries.channel, 'sms')))
          .for('update')
        if (!d) return undefined
        if (d.status !== 'sent') return { delivery: d, changed: false }
        const [moved] = await tx.update(deliveries)
          .set({ status: next.status, reason: next.reason ?? null, updatedAt: sql`now()` })
          .where(eq(deliveries.id, d.id))
          .returning()
        if (next.status === 'failed') {
          await tx.insert(deliveryAttempts).values({
            deliveryId: d.id, attempt: d.attempts, outcome: 'failed', reason: next.reason, error: next.error, providerMessageId: sid, durationMs: 0
          })
        }
        return { delivery: moved ?? d, changed: true }
      })
    }
  }
}
export type SmsRepository = ReturnType<typeof createSmsRepository>
