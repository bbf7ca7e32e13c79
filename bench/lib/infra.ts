import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import pg from 'pg'
import { freePort, start, type Proc } from './procs.js'
import { BUILD, ROOT, log } from './util.js'

export const PG_ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'

const withDb = (url: string, db: string) => { const u = new URL(url); u.pathname = '/' + db; return u.toString() }
const created = new Set<string>()

async function admin<T> (fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL })
  await c.connect()
  try { return await fn(c) } finally { await c.end() }
}

/** A fresh database for one run, migrated with the system's own command (node dist/db/migrate.js). */
export async function createDatabase (): Promise<{ name: string, url: string }> {
  const name = 'ns_bench_' + randomBytes(5).toString('hex')
  await admin((c) => c.query(`create database ${name}`))
  created.add(name)
  const url = withDb(PG_ADMIN_URL, name)
  const p = start('migrate', process.execPath, ['dist/db/migrate.js'], { DATABASE_URL: url })
  await p.line((l) => l.includes('migrations applied'), 60000)
  await p.stop()
  return { name, url }
}

export async function dropDatabase (name: string): Promise<void> {
  await admin((c) => c.query(`drop database if exists ${name} with (force)`))
  created.delete(name)
}

export async function dropAllDatabases (): Promise<void> {
  for (const name of [...created]) await dropDatabase(name).catch((err: Error) => log(`could not drop ${name}: ${err.message}`))
}

export async function query<T extends pg.QueryResultRow> (url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try { return (await c.query<T>(sql, params)).rows } finally { await c.end() }
}

export async function ensureTenant (url: string, name = 'default'): Promise<string> {
  await query(url, 'insert into tenants (name) values ($1) on conflict (name) do nothing', [name])
  const [row] = await query<{ id: string }>(url, 'select id from tenants where name = $1', [name])
  if (!row) throw new Error('tenant not created')
  return row.id
}

/**
 * Stores `count` finished notifications as the system leaves them: a recipient (one of a
 * thousand), the notification, a sent email and a sent in-app delivery, one attempt each and the
 * inbox message, dated a day back. One statement, so 100k take seconds, not minutes.
 */
export async function prefill (url: string, tenantId: string, from: number, to: number): Promise<void> {
  if (to <= from) return
  const recipients = Math.min(1000, to)
  await query(url, `insert into recipients (tenant_id, id, email) select $1, 'pre-' || g, 'pre' || g || '@bench.example.com'
    from generate_series(0, $2::int - 1) g on conflict do nothing`, [tenantId, recipients])
  await query(url, `with n as (
      insert into notifications (tenant_id, recipient_id, category, strategy, content, status, created_at, updated_at)
      select $1, 'pre-' || (g % $4::int), 'account', 'all',
        jsonb_build_object('subject', 'Your receipt for order ' || g, 'text', 'Hello, thank you for your order ' || g || '. We received your payment of 42.00 EUR and will send the parcel tomorrow. The shop team',
          'html', '<p>Hello,</p><p>Thank you for your order <b>' || g || '</b>. We received your payment of 42.00 EUR and will send the parcel tomorrow.</p><p>The shop team</p>'),
        'completed', now() - interval '1 day', now() - interval '1 day'
      from generate_series($2::int, $3::int - 1) g
      returning id, recipient_id, created_at
    ), d as (
      insert into deliveries (notification_id, tenant_id, channel, position, status, attempts, provider_message_id, created_at, updated_at)
      select n.id, $1, c.channel, c.position, 'sent', 1, '<' || gen_random_uuid() || '@bench.example.com>', n.created_at, n.created_at
      from n cross join (values ('email', 0), ('inapp', 1)) as c(channel, position)
      returning id, notification_id, channel, provider_message_id, created_at
    ), a as (
      insert into delivery_attempts (delivery_id, attempt, outcome, provider_message_id, duration_ms, created_at)
      select d.id, 1, 'sent', d.provider_message_id, 3, d.created_at from d
    )
    insert into inapp_messages (tenant_id, recipient_id, notification_id, delivery_id, title, text, created_at)
    select $1, n.recipient_id, n.id, d.id, 'Your order shipped', 'Your order is on its way.', n.created_at
    from d join n on n.id = d.notification_id where d.channel = 'inapp'`, [tenantId, from, to, recipients])
  // As a database that has been running: vacuumed and analyzed, the bulk load checkpointed, so
  // autovacuum and the checkpointer do not spend the measurement's CPU on the prefill itself.
  await query(url, 'vacuum analyze')
  await query(PG_ADMIN_URL, 'checkpoint')
}

const prefixes = new Set<string>()
/** Remembers a queue prefix, so a run that fails still removes its keys. */
export const usePrefix = (prefix: string): string => { prefixes.add(prefix); return prefix }
export async function cleanAllPrefixes (): Promise<void> {
  for (const p of [...prefixes]) await cleanRedisPrefix(p).catch(() => 0)
}

/** Deletes every Redis key under a queue prefix (SCAN, never KEYS). */
export async function cleanRedisPrefix (prefix: string): Promise<number> {
  prefixes.delete(prefix)
  const r = new Redis(REDIS_URL)
  let removed = 0
  try {
    let cursor = '0'
    for (let i = 0; i < 100000; i++) {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
      if (keys.length > 0) removed += await r.unlink(...keys)
      cursor = next
      if (cursor === '0') break
    }
  } finally { r.disconnect() }
  return removed
}

export interface Sink { url: string, kind: string, proc: Proc }

/** An SMTP server that accepts and discards everything: postfix's smtp-sink, or smtp-server when postfix is absent. */
export async function startSink (): Promise<Sink> {
  const port = await freePort()
  const smtpSink = ['/usr/sbin/smtp-sink', '/usr/bin/smtp-sink'].find((p) => existsSync(p))
  if (smtpSink) {
    const asRoot = process.getuid?.() === 0 ? ['-u', 'nobody'] : []
    const proc = start('smtp-sink', smtpSink, [...asRoot, '-m', '1024', `127.0.0.1:${port}`, '1024'])
    await waitSmtp(port, proc)
    return { url: `smtp://127.0.0.1:${port}`, kind: 'postfix smtp-sink', proc }
  }
  const proc = start('smtp-server', process.execPath, [join(BUILD, 'child', 'smtp-server-sink.js'), String(port)])
  await proc.line((l) => l === 'ready', 10000)
  return { url: `smtp://127.0.0.1:${port}`, kind: 'smtp-server (npm), postfix not installed', proc }
}

async function waitSmtp (port: number, proc: Proc): Promise<void> {
  const { connect } = await import('node:net')
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1')
      s.once('data', (d) => { s.destroy(); resolve(d.toString().startsWith('220')) })
      s.once('error', () => resolve(false))
      s.setTimeout(1000, () => { s.destroy(); resolve(false) })
    })
    if (ok) return
    if (proc.child.exitCode !== null) throw new Error(`smtp-sink exited: ${proc.output()}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('smtp-sink did not greet')
}

export { ROOT }
