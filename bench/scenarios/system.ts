import { cleanRedisPrefix, createDatabase, dropDatabase, ensureTenant, prefill, query } from '../lib/infra.js'
import type { Plan } from '../lib/plan.js'
import { startSystem, type Mode, type RunningSystem } from '../lib/system.js'
import { log, round, waitFor } from '../lib/util.js'
import { drive, type DriveResult } from './drive.js'

export interface Figures {
  stored: number
  intake: DriveResult
  email: DriveResult
  inapp: DriveResult
}

export interface Context { plan: Plan, smtpUrl: string, profile: boolean }

const settings = (plan: Plan) => ({
  DATABASE_POOL_SIZE: String(plan.poolSize),
  WORKER_CONCURRENCY: String(plan.workerConcurrency),
  SMTP_POOL_SIZE: String(plan.smtpPoolSize)
})

const summary = (what: string, r: DriveResult) =>
  `${what}: ${round(r.load.acceptedPerSecond)} accepted/s (p50 ${r.load.latencyMs.p50} ms, p99 ${r.load.latencyMs.p99} ms)` +
  (r.sent ? `, ${r.deliveredPerSecond} delivered/s, accepted→sent p50 ${r.sentLatencyMs.p50} p99 ${r.sentLatencyMs.p99} ms${r.complete ? '' : ' (INCOMPLETE)'}` : '') +
  (r.load.non2xx || r.load.errors ? ` [non-2xx ${r.load.non2xx}, errors ${r.load.errors}]` : '') +
  `; CPU ms/notification ${Object.entries(r.cpuMsPerNotification).map(([k, v]) => `${k} ${v}`).join(', ')}`

/**
 * Intake, then email and in-app delivery, on a fresh database holding `stored` notifications.
 * Intake runs against the API alone (the workers start afterwards and its jobs are dropped), as a
 * deployment that runs the API on its own machines sees it; delivery runs the whole system.
 * In `all` mode there is one process, so intake there runs on its own system and the deliveries on
 * a fresh one. Returns the figures and the running system, for more measurements on it.
 */
export async function measure (ctx: Context, mode: Mode, stored: number): Promise<{ figures: Figures, system: RunningSystem, databaseUrl: string, tenantId: string, done: () => Promise<void> }> {
  const { plan } = ctx
  const db = await createDatabase()
  const tenantId = await ensureTenant(db.url)
  if (stored > 0) {
    log(`${mode}: storing ${stored} notifications`)
    await prefill(db.url, tenantId, 0, stored)
  }
  const options = { mode, databaseUrl: db.url, smtpUrl: ctx.smtpUrl, env: settings(plan), profile: ctx.profile }
  const common = { databaseUrl: db.url, tenantId, connections: plan.connections, inboxes: plan.inboxes, drainTimeoutSec: plan.drainTimeoutSec }

  let system = await startSystem(options, { workers: false })
  const intake = await drive({ ...common, system, channel: 'email', duration: plan.intakeSec, deliver: false })
  log(`${mode} @${stored}: ${summary('intake', intake)}`)
  // The relay hands every accepted notification to Redis; once it has, those jobs are dropped.
  await waitFor(async () => (await query<{ n: number }>(db.url, 'select count(*)::int as n from outbox'))[0]?.n === 0, 'the outbox to drain', 60000, 200)
  if (mode === 'all') {
    // A new system has a new queue prefix: what the first one had not delivered stays behind.
    await system.stop()
    system = await startSystem(options)
  } else {
    await cleanRedisPrefix(system.prefix)
    await system.startWorkers()
  }
  const deliveryRun = { ...common, system, amount: plan.deliveryAmount, duration: plan.deliveryMaxSec }
  const email = await drive({ ...deliveryRun, channel: 'email' })
  log(`${mode} @${stored}: ${summary('email', email)}`)
  const inapp = await drive({ ...deliveryRun, channel: 'inapp' })
  log(`${mode} @${stored}: ${summary('in-app', inapp)}`)
  return {
    figures: { stored, intake, email, inapp },
    system,
    databaseUrl: db.url,
    tenantId,
    done: async () => { await system.stop(); await dropDatabase(db.name) }
  }
}

/**
 * Latency against offered rate: open-loop load at fractions of the highest rate the system
 * sustained for the channel; the half-load point runs longer, it is the one the goals read.
 */
export async function sweep (ctx: Context, m: { system: RunningSystem, databaseUrl: string, tenantId: string }, channel: 'email' | 'inapp', highest: number): Promise<DriveResult[]> {
  const out: DriveResult[] = []
  for (const f of ctx.plan.sweep) {
    const rate = Math.max(1, Math.round(highest * f))
    const duration = f === 0.5 ? ctx.plan.halfLoadSec : ctx.plan.sweepSec
    // Enough connections that the offered rate is kept even when responses slow down.
    const r = await drive({
      system: m.system, databaseUrl: m.databaseUrl, tenantId: m.tenantId, channel, rate, duration,
      connections: ctx.plan.connections, inboxes: ctx.plan.inboxes, drainTimeoutSec: ctx.plan.drainTimeoutSec
    })
    log(`sweep ${channel} ${f}× (${r.offeredRate}/s offered): ${summary('', r)}`)
    out.push({ ...r, fraction: f })
  }
  return out
}
