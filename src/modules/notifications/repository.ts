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

/** Everything one accepted notification writes, ids included. */
export interface AcceptedRows extends Omit<NewNotification, 'channels'> {
  id: string
  status: 'accepted' | 'scheduled'
  deliveries: Array<{ id: string, channel: Channel, status: string }>
  acceptedResponse?: unknown
  job: { queue: string, jobName: string, jobId: string, payload: Record<string, unknown>, runAt: Date | null }
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

    /**
     * Writes an accepted notification in one statement, so one round trip and one commit: the
     * recipient (upserted with the addresses given), the notification, its deliveries and its
     * outbox job. Ids are made by the caller, so nothing needs to come back. Runs on its own
     * (atomic as any statement) or inside the idempotency transaction.
     */
    /** Returns the outbox row's id, so the row can go once its job is in Redis. */
    async insertAccepted (n: AcceptedRows, tx?: Tx): Promise<number> {
      const on = tx ?? db
      const r = n.recipient
      const given = (['email', 'phone', 'locale', 'timezone'] as const).filter((k) => r[k] !== undefined)
      const upsert = given.length > 0
        ? sql`on conflict (tenant_id, id) do update set ${sql.join(given.map((k) => sql`${sql.identifier(k)} = excluded.${sql.identifier(k)}`), sql`, `)}, updated_at = now()`
        : sql`on conflict do nothing`
      const rows = n.deliveries.map((d, position) => sql`(${d.id}::uuid, ${n.id}::uuid, ${n.tenantId}::uuid, ${d.channel}, ${position}::int, ${d.status})`)
      const result = await on.execute<{ id: string }>(sql`with r as (
          insert into ${recipients} (tenant_id, id, email, phone, locale, timezone)
          values (${n.tenantId}, ${r.id}, ${r.email ?? null}, ${r.phone ?? null}, ${r.locale ?? null}, ${r.timezone ?? null}) ${upsert}
        ), n as (
          insert into ${notifications} (id, tenant_id, recipient_id, category, strategy, priority, content, status, send_at, idempotency_key, request_hash, accepted_response)
          values (${n.id}, ${n.tenantId}, ${r.id}, ${n.category}, ${n.strategy}, ${n.priority ?? null}, ${JSON.stringify(n.content)}::jsonb, ${n.status},
            ${n.sendAt?.toISOString() ?? null}::timestamptz, ${n.idempotencyKey ?? null}, ${n.requestHash ?? null}, ${n.acceptedResponse === undefined ? null : JSON.stringify(n.acceptedResponse)}::jsonb)
        ), d as (
          insert into ${deliveries} (id, notification_id, tenant_id, channel, position, status) values ${sql.join(rows, sql`, `)}
        )
        insert into ${outbox} (queue, job_name, job_id, payload, run_at)
        values (${n.job.queue}, ${n.job.jobName}, ${n.job.jobId}, ${JSON.stringify(n.job.payload)}::jsonb, ${n.job.runAt?.toISOString() ?? null}::timestamptz)
        returning id`)
      return Number(result.rows[0]?.id)
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
