import { and, asc, eq, inArray, sql, type SQL } from 'drizzle-orm'
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
     * Writes accepted notifications in one statement, so one round trip and one commit for all of
     * them: their recipients (upserted with the addresses given; an address not given is left as
     * stored), the notifications, their deliveries and their outbox jobs. Ids are made by the
     * caller. Atomic on its own, as any statement, or inside the idempotency transaction.
     * Returns each notification's outbox row id, in order, so the rows can go once Redis has the jobs.
     */
    async insertAccepted (batch: AcceptedRows[], tx?: Tx): Promise<number[]> {
      if (batch.length === 0) return []
      // One row per recipient (an upsert cannot touch a row twice); the later request's addresses win.
      const people = new Map<string, { tenantId: string, id: string, email?: string, phone?: string, locale?: string, timezone?: string }>()
      for (const n of batch) {
        const key = `${n.tenantId}\u0000${n.recipient.id}`
        const was = people.get(key)
        const given = Object.fromEntries(Object.entries(n.recipient).filter(([, v]) => v !== undefined))
        people.set(key, { ...was, ...given, tenantId: n.tenantId, id: n.recipient.id })
      }
      // In one order everywhere, so two statements upserting the same recipients never deadlock.
      const sorted = [...people.entries()].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([, r]) => r)
      const hasAddress = (r: (typeof sorted)[number]) => (r.email ?? r.phone ?? r.locale ?? r.timezone) !== undefined
      const withAddress = sorted.filter(hasAddress)
      const without = sorted.filter((r) => !hasAddress(r))
      const list = <T>(items: T[], row: (item: T) => SQL) => sql.join(items.map(row), sql`, `)
      const parts: SQL[] = []
      if (withAddress.length > 0) {
        parts.push(sql`r1 as (
          insert into ${recipients} (tenant_id, id, email, phone, locale, timezone)
          values ${list(withAddress, (r) => sql`(${r.tenantId}::uuid, ${r.id}, ${r.email ?? null}, ${r.phone ?? null}, ${r.locale ?? null}, ${r.timezone ?? null})`)}
          on conflict (tenant_id, id) do update set email = coalesce(excluded.email, recipients.email), phone = coalesce(excluded.phone, recipients.phone),
            locale = coalesce(excluded.locale, recipients.locale), timezone = coalesce(excluded.timezone, recipients.timezone), updated_at = now()
        )`)
      }
      if (without.length > 0) {
        parts.push(sql`r2 as (
          insert into ${recipients} (tenant_id, id) values ${list(without, (r) => sql`(${r.tenantId}::uuid, ${r.id})`)} on conflict do nothing
        )`)
      }
      parts.push(sql`n as (
        insert into ${notifications} (id, tenant_id, recipient_id, category, strategy, priority, content, status, send_at, idempotency_key, request_hash, accepted_response)
        values ${list(batch, (n) => sql`(${n.id}::uuid, ${n.tenantId}::uuid, ${n.recipient.id}, ${n.category}, ${n.strategy}, ${n.priority ?? null}, ${JSON.stringify(n.content)}::jsonb, ${n.status},
          ${n.sendAt?.toISOString() ?? null}::timestamptz, ${n.idempotencyKey ?? null}, ${n.requestHash ?? null}, ${n.acceptedResponse === undefined ? null : JSON.stringify(n.acceptedResponse)}::jsonb)`)}
      )`)
      parts.push(sql`d as (
        insert into ${deliveries} (id, notification_id, tenant_id, channel, position, status)
        values ${list(batch.flatMap((n) => n.deliveries.map((d, position) => ({ n, d, position }))), ({ n, d, position }) => sql`(${d.id}::uuid, ${n.id}::uuid, ${n.tenantId}::uuid, ${d.channel}, ${position}::int, ${d.status})`)}
      )`)
      const result = await (tx ?? db).execute<{ id: string, job_id: string }>(sql`with ${sql.join(parts, sql`, `)}
        insert into ${outbox} (queue, job_name, job_id, payload, run_at)
        values ${list(batch, (n) => sql`(${n.job.queue}, ${n.job.jobName}, ${n.job.jobId}, ${JSON.stringify(n.job.payload)}::jsonb, ${n.job.runAt?.toISOString() ?? null}::timestamptz)`)}
        returning id, job_id`)
      const ids = new Map(result.rows.map((r) => [r.job_id, Number(r.id)]))
      return batch.map((n) => ids.get(n.job.jobId) ?? NaN)
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
