import type pg from 'pg'
import { isDatabaseUnreachable } from '../../db/errors.js'
import type { Delivery, Notification } from '../../db/schema.js'

export type LockedNotification = Pick<Notification, 'id' | 'tenantId' | 'recipientId' | 'category' | 'strategy' | 'status'>

/** One step's transaction: the named statements below, on the connection that holds the lock. */
export interface Tx { query: <T extends pg.QueryResultRow>(name: keyof typeof SQL, values: unknown[]) => Promise<T[]> }

const DELIVERY = `d.id, d.notification_id as "notificationId", d.tenant_id as "tenantId", d.channel, d.position, d.status, d.reason,
  d.attempts, d.provider_message_id as "providerMessageId", d.created_at as "createdAt", d.updated_at as "updatedAt"`

/**
 * Every statement a step runs, as named statements: PostgreSQL parses and plans each once per
 * connection, and the client sends no SQL text after the first time. A step runs on every
 * notification and again whenever one of its deliveries ends, so this is the system's hottest SQL.
 */
const SQL = {
  // The notification locked, with its deliveries, in one round trip. Deliveries are read as of the
  // statement's start: one that ended while this waited for the lock is seen by the step its own
  // `advance` job runs, and a move only applies to a delivery still pending or queued.
  lock: `select n.id as "nId", n.tenant_id as "nTenantId", n.recipient_id as "nRecipientId", n.category as "nCategory",
      n.strategy as "nStrategy", n.status as "nStatus", ${DELIVERY}
    from notifications n left join deliveries d on d.notification_id = n.id
    where n.id = $1 order by d.position for update of n`,
  deliveries: `select ${DELIVERY} from deliveries d where d.notification_id = $1 order by d.position`,
  audience: `select r.email, r.phone, p.channels, p.categories,
      (select count(*)::int from push_subscriptions s where s.tenant_id = $1 and s.recipient_id = $2) as "pushSubscriptions"
    from (select 1) as one
    left join recipients r on r.tenant_id = $1 and r.id = $2
    left join recipient_preferences p on p.tenant_id = $1 and p.recipient_id = $2`,
  move: `update deliveries set status = $2, reason = $3, updated_at = now() where id = $1 and status in ('pending', 'queued') returning id`,
  reopen: `update notifications set status = 'processing', updated_at = now() where id = $1 and status = 'completed'`,
  reopenFallback: `update deliveries set status = 'pending', reason = null, updated_at = now()
    where notification_id = $1 and status = 'canceled' and reason = 'fallback_not_needed'`,
  setStatus: `update notifications set status = $2, updated_at = now() where id = $1 and status not in ('completed', 'failed', 'canceled')`
} as const

export interface Audience {
  email: string | null
  phone: string | null
  pushSubscriptions: number
  preferences: { channels: Record<string, boolean>, categories: Record<string, Record<string, boolean>> } | undefined
}

export function createOrchestratorRepository (pool: pg.Pool) {
  return {
    /** Runs fn with the notification locked, so two jobs for one notification take turns. */
    async withNotification<T> (id: string, fn: (tx: Tx, n: LockedNotification, ds: Delivery[]) => Promise<T>): Promise<T | undefined> {
      const client = await pool.connect()
      const tx: Tx = {
        query: async <R extends pg.QueryResultRow>(name: keyof typeof SQL, values: unknown[]) =>
          (await client.query<R>({ name: `orchestrator_${name}`, text: SQL[name], values })).rows
      }
      let broken: Error | undefined
      try {
        await client.query('begin')
        const rows = await tx.query<Record<string, unknown>>('lock', [id])
        const first = rows[0]
        let result: T | undefined
        if (first) {
          const n = { id: first.nId, tenantId: first.nTenantId, recipientId: first.nRecipientId, category: first.nCategory, strategy: first.nStrategy, status: first.nStatus } as LockedNotification
          const ds = rows.filter((r) => r.id !== null).map(({ nId, nTenantId, nRecipientId, nCategory, nStrategy, nStatus, ...d }) => d as unknown as Delivery)
          result = await fn(tx, n, ds)
        }
        await client.query('commit')
        return result
      } catch (err) {
        // A broken connection is dropped from the pool rather than handed to the next caller.
        if (isDatabaseUnreachable(err)) broken = err as Error
        else await client.query('rollback').catch((e: Error) => { broken = e })
        throw err
      } finally {
        client.release(broken)
      }
    },
    async deliveries (tx: Tx, notificationId: string): Promise<Delivery[]> {
      return await tx.query<Delivery>('deliveries', [notificationId])
    },
    async audience (tx: Tx, tenantId: string, recipientId: string): Promise<Audience> {
      const [a] = await tx.query<{ email: string | null, phone: string | null, channels: Record<string, boolean> | null, categories: Record<string, Record<string, boolean>> | null, pushSubscriptions: number }>('audience', [tenantId, recipientId])
      return {
        email: a?.email ?? null,
        phone: a?.phone ?? null,
        pushSubscriptions: a?.pushSubscriptions ?? 0,
        preferences: a?.channels || a?.categories ? { channels: a.channels ?? {}, categories: a.categories ?? {} } : undefined
      }
    },
    /** Moves a delivery that has not started yet; false when it had started or ended meanwhile. */
    async move (tx: Tx, deliveryId: string, status: 'queued' | 'skipped' | 'canceled', reason?: string): Promise<boolean> {
      return (await tx.query('move', [deliveryId, status, reason ?? null])).length > 0
    },
    /** Takes a completed notification back to processing (its success was taken back); a fallback's not-needed channels wait again. */
    async reopen (tx: Tx, id: string, fallback: boolean): Promise<void> {
      await tx.query('reopen', [id])
      if (fallback) await tx.query('reopenFallback', [id])
    },
    async setStatus (tx: Tx, id: string, status: string): Promise<void> {
      await tx.query('setStatus', [id, status])
    }
  }
}
export type OrchestratorRepository = ReturnType<typeof createOrchestratorRepository>
