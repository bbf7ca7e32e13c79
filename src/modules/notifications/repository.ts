import { and, asc, eq, inArray, sql } from 'drizzle-orm'
import type { Db } from '../../db/client.js'
import { deliveries, notifications, outbox, recipients, type NotificationContent } from '../../db/schema.js'
import type { Channel } from '../../queues/contracts.js'

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]

export interface NewNotification {
  tenantId: string
  recipient: { id: string, email?: string, phone?: string, locale?: string, timezone?: string }
  channels: Channel[]
  strategy: 'all' | 'fallback'
  category: string
  priority?: 'low' | 'normal' | 'high'
  content: NotificationContent
  sendAt: Date | null
  idempotencyKey?: string
  requestHash?: string
}

export function createNotificationsRepository (db: Db) {
  return {
    transaction: <T>(fn: (tx: Tx) => Promise<T>) => db.transaction(fn),

    /** Serialises requests with one Idempotency-Key; false while another holds it. */
    async tryLockKey (tx: Tx, tenantId: string, key: string): Promise<boolean> {
      const r = await tx.execute<{ locked: boolean }>(sql`select pg_try_advisory_xact_lock(hashtextextended(${tenantId + ':' + key}::text, 0)) as locked`)
      return r.rows[0]?.locked === true
    },

    async findByKey (tx: Tx, tenantId: string, key: string) {
      const [row] = await tx.select({ requestHash: notifications.requestHash, acceptedResponse: notifications.acceptedResponse })
        .from(notifications).where(and(eq(notifications.tenantId, tenantId), eq(notifications.idempotencyKey, key)))
      return row
    },

    async upsertRecipient (tx: Tx, tenantId: string, r: NewNotification['recipient']): Promise<void> {
      const set = Object.fromEntries(Object.entries({ email: r.email, phone: r.phone, locale: r.locale, timezone: r.timezone })
        .filter(([, v]) => v !== undefined))
      const insert = tx.insert(recipients).values({ tenantId, id: r.id, ...set })
      await (Object.keys(set).length > 0
        ? insert.onConflictDoUpdate({ target: [recipients.tenantId, recipients.id], set: { ...set, updatedAt: sql`now()` } })
        : insert.onConflictDoNothing())
    },

    async insert (tx: Tx, n: NewNotification, status: string, deliveryStatus: (i: number) => string) {
      const [row] = await tx.insert(notifications).values({
        tenantId: n.tenantId,
        recipientId: n.recipient.id,
        category: n.category,
        strategy: n.strategy,
        priority: n.priority,
        content: n.content,
        status,
        sendAt: n.sendAt,
        idempotencyKey: n.idempotencyKey,
        requestHash: n.requestHash
      }).returning({ id: notifications.id })
      if (!row) throw new Error('notification insert returned nothing')
      const rows = await tx.insert(deliveries).values(n.channels.map((channel, position) => ({
        notificationId: row.id, tenantId: n.tenantId, channel, position, status: deliveryStatus(position)
      }))).returning({ id: deliveries.id, channel: deliveries.channel, status: deliveries.status, position: deliveries.position })
      rows.sort((a, b) => a.position - b.position)
      return { id: row.id, deliveries: rows.map(({ id, channel, status }) => ({ id, channel, status })) }
    },

    async saveAcceptedResponse (tx: Tx, id: string, response: unknown): Promise<void> {
      await tx.update(notifications).set({ acceptedResponse: response }).where(eq(notifications.id, id))
    },

    async addOutbox (tx: Tx, job: typeof outbox.$inferInsert): Promise<void> {
      await tx.insert(outbox).values(job)
    },

    async get (tenantId: string, id: string) {
      const [n] = await db.select().from(notifications).where(and(eq(notifications.id, id), eq(notifications.tenantId, tenantId)))
      if (!n) return undefined
      const ds = await db.select().from(deliveries).where(eq(deliveries.notificationId, id)).orderBy(asc(deliveries.position))
      return { ...n, deliveries: ds }
    },

    async lockForCancel (tx: Tx, tenantId: string, id: string) {
      const [n] = await tx.select({ id: notifications.id }).from(notifications)
        .where(and(eq(notifications.id, id), eq(notifications.tenantId, tenantId))).for('update')
      return n
    },

    async cancelOpenDeliveries (tx: Tx, id: string) {
      return await tx.update(deliveries).set({ status: 'canceled', updatedAt: sql`now()` })
        .where(and(eq(deliveries.notificationId, id), inArray(deliveries.status, ['pending', 'queued'])))
        .returning({ id: deliveries.id, channel: deliveries.channel })
    },

    async deliveryStatuses (tx: Tx, id: string): Promise<string[]> {
      const rows = await tx.select({ status: deliveries.status }).from(deliveries).where(eq(deliveries.notificationId, id))
      return rows.map((r) => r.status)
    },

    async setStatus (tx: Tx, id: string, status: string): Promise<void> {
      await tx.update(notifications).set({ status, updatedAt: sql`now()` }).where(eq(notifications.id, id))
    },

    async deleteOutboxFor (tx: Tx, jobId: string): Promise<void> {
      await tx.delete(outbox).where(eq(outbox.jobId, jobId))
    }
  }
}
export type NotificationsRepository = ReturnType<typeof createNotificationsRepository>
