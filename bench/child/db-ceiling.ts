/**
 * The database ceiling: the rows one accepted notification costs (its recipient upserted, the
 * notification, its delivery, its outbox job) written straight to PostgreSQL with `pg`, one
 * statement per notification, with the API's pool size and the load generator's concurrency.
 */
import pg from 'pg'
import { notificationBody } from '../lib/body.js'
import { percentiles, wallMs } from '../lib/util.js'

export interface DbCeilingOptions { databaseUrl: string, tenantId: string, run: string, poolSize: number, concurrency: number, duration: number, amount?: number }

const INSERT = `with r as (
  insert into recipients (tenant_id, id, email) values ($1, $2, $3)
  on conflict (tenant_id, id) do update set email = excluded.email, updated_at = now()
), n as (
  insert into notifications (tenant_id, recipient_id, category, strategy, content, status)
  values ($1, $2, $4, 'all', $5, 'accepted') returning id
), d as (
  insert into deliveries (notification_id, tenant_id, channel, position, status)
  select n.id, $1, 'email', 0, 'queued' from n returning id
), o as (
  insert into outbox (queue, job_name, job_id, payload)
  select 'orchestrator', 'orchestrate', 'n-' || n.id, jsonb_build_object('notificationId', n.id) from n
)
select n.id, d.id as delivery_id from n, d`

export async function runDbCeiling (o: DbCeilingOptions) {
  const pool = new pg.Pool({ connectionString: o.databaseUrl, max: o.poolSize })
  // Connections are opened before the clock starts, as the API's pool is warm when it is measured.
  await Promise.all(Array.from({ length: o.poolSize }, async () => { const c = await pool.connect(); c.release() }))
  const until = wallMs() + o.duration * 1000
  const limit = o.amount ?? Number.MAX_SAFE_INTEGER
  let next = 0
  let written = 0
  const latencies: number[] = []
  const startedAt = wallMs()
  await Promise.all(Array.from({ length: o.concurrency }, async () => {
    while (next < limit && wallMs() < until) {
      const b = notificationBody('email', next++, o.run)
      const t0 = wallMs()
      await pool.query(INSERT, [o.tenantId, b.recipient.id, b.recipient.email, b.category, JSON.stringify(b.content)])
      latencies.push(wallMs() - t0)
      written++
    }
  }))
  const seconds = (wallMs() - startedAt) / 1000
  await pool.end()
  return { written, seconds, perSecond: written / seconds, latencyMs: percentiles(latencies) }
}

if (process.argv[2]) {
  const out = await runDbCeiling(JSON.parse(process.argv[2]) as DbCeilingOptions)
  process.stdout.write(JSON.stringify(out) + '\n')
}
