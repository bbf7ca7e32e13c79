/**
 * npm run bench: how fast and how lean the system is on this machine, every figure beside its
 * ceiling measured in the same run. Starts what it needs on loopback (an SMTP sink, the system as
 * separate roles and in one process, the ceilings), uses a fresh database and queue prefix per
 * measurement, and writes bench/results/latest.{json,md,svg}.
 *
 *   --smoke     tiny counts, seconds: proves the harness works (CI); asserts nothing about speed
 *   --profile   CPU profiles of every role in bench/results/tmp/prof (node --cpu-prof)
 *   --only=a,b  development: only these parts (ceilings, idle, roles, all, growth, redis); prints JSON, writes nothing
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { chart } from './report/chart.js'
import { markdown } from './report/markdown.js'
import { goals, type Machine, type Results } from './report/results.js'
import { PG_ADMIN_URL, REDIS_URL, cleanAllPrefixes, createDatabase, dropAllDatabases, dropDatabase, query, startSink } from './lib/infra.js'
import { PLANS } from './lib/plan.js'
import { imageNodeOptions, stopAll } from './lib/procs.js'
import { RESULTS, ROOT, TMP, log, round, sleep } from './lib/util.js'
import { dbCeiling, httpCeiling, queueCeiling, smtpCeiling } from './scenarios/ceilings.js'
import { idleMemory, redisPerJob } from './scenarios/memory.js'
import { measure, sweep, type Context } from './scenarios/system.js'

const args = process.argv.slice(2)
const plan = PLANS[args.includes('--smoke') ? 'smoke' : 'full']
const only = args.find((a) => a.startsWith('--only='))?.slice(7).split(',')
const want = (part: string) => !only || only.includes(part)
const LIMIT_MS = plan.name === 'full' ? 14.5 * 60_000 : 4 * 60_000

async function machine (sink: string): Promise<Machine> {
  const [pgv] = await query<{ v: string }>(PG_ADMIN_URL, "select split_part(version(), ' on ', 1) as v")
  const r = new Redis(REDIS_URL)
  const info = await r.info('server')
  r.disconnect()
  let os = 'Linux'
  try { os = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os } catch {}
  return {
    date: new Date().toISOString(),
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres: pgv?.v ?? 'PostgreSQL',
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? '?',
    os,
    loadAverageAtStart: loadavg().map((x) => round(x, 2)),
    sink,
    nodeOptions: imageNodeOptions(process.env.BENCH_SYSTEM_ROOT ?? ROOT)
  }
}

/** The machine is shared: wait (boundedly) for others' work to calm down before measuring. */
async function waitQuiet (): Promise<void> {
  if (plan.name !== 'full') return
  const limit = availableParallelism() * 0.5
  for (let i = 0; i < 12 && loadavg()[0]! > limit; i++) {
    log(`load average ${loadavg()[0]!.toFixed(2)} > ${limit}: waiting for the machine to be quieter`)
    await sleep(5000)
  }
}

async function main (): Promise<void> {
  const started = Date.now()
  await waitQuiet()
  const sink = await startSink()
  const ctx: Context = { plan, smtpUrl: sink.url, profile: args.includes('--profile') }
  const m = await machine(sink.kind)
  log(`${plan.name} run on ${m.nproc} cores, Node ${m.node}, load ${m.loadAverageAtStart.join(' ')}; sink ${sink.kind}`)
  const partial: Record<string, unknown> = { machine: m, plan }

  if (want('ceilings')) {
    const http = await httpCeiling({ connections: plan.connections, duration: plan.intakeSec })
    log(`ceiling HTTP: ${http.perSecond}/s p50 ${http.latencyMs?.p50} p99 ${http.latencyMs?.p99} ms`)
    const db = await dbCeiling({ connections: plan.connections, duration: plan.intakeSec, poolSize: plan.poolSize })
    log(`ceiling DB: ${db.perSecond}/s p50 ${db.latencyMs?.p50} p99 ${db.latencyMs?.p99} ms`)
    const smtp = await smtpCeiling({ smtpUrl: sink.url, poolSize: plan.smtpPoolSize, concurrency: plan.workerConcurrency, amount: plan.smtpAmount })
    log(`ceiling SMTP: ${smtp.perSecond}/s`)
    const queue = await queueCeiling({ amount: plan.queueAmount, concurrency: plan.connections, workerConcurrency: plan.workerConcurrency })
    log(`ceiling queue: ${queue.perSecond}/s`)
    partial.ceilings = { http, db, smtp, queue }
  }

  if (want('idle')) {
    const db = await createDatabase()
    partial.idle = await idleMemory({ databaseUrl: db.url, smtpUrl: sink.url, settleMs: plan.idleSettleMs })
    log('idle RSS (MB):', JSON.stringify(partial.idle))
    await dropDatabase(db.name)
  }

  if (want('roles')) {
    const r = await measure(ctx, 'roles', 0)
    const peakRssMb = mergePeaks(r.figures.email.peakRssMb, r.figures.inapp.peakRssMb)
    const inapp = await sweep(ctx, r, 'inapp', r.figures.inapp.deliveredPerSecond)
    const email = await sweep(ctx, r, 'email', r.figures.email.deliveredPerSecond)
    await r.done()
    partial.roles = { ...r.figures, sweep: { inapp, email }, peakRssMb }
  }

  if (want('all')) {
    const r = await measure(ctx, 'all', 0)
    await r.done()
    partial.all = { ...r.figures, peakRssMb: mergePeaks(r.figures.email.peakRssMb, r.figures.inapp.peakRssMb) }
  }

  if (want('growth')) {
    const growth = []
    for (const stored of plan.growth) {
      if (Date.now() - started > LIMIT_MS - 150_000) { log(`skipping growth at ${stored}: the run is near its time limit`); continue }
      const r = await measure(ctx, 'roles', stored)
      await r.done()
      growth.push(r.figures)
    }
    partial.growth = growth
  }

  if (want('redis')) {
    partial.redis = await redisPerJob(plan.redisJobs)
    log('Redis per waiting job:', JSON.stringify(partial.redis))
  }
  await sink.proc.stop()

  const seconds = (Date.now() - started) / 1000
  if (only) {
    process.stdout.write(JSON.stringify(partial, null, 2) + '\n')
    return
  }
  const base = {
    machine: m,
    plan,
    seconds,
    ceilings: partial.ceilings as Results['ceilings'],
    roles: partial.roles as Results['roles'],
    all: partial.all as Results['all'],
    growth: partial.growth as Results['growth'],
    memory: { idleMb: partial.idle as Record<string, number>, redis: partial.redis as Results['memory']['redis'] }
  }
  const results: Results = { ...base, goals: goals(base) }
  const table = markdown(results)
  const svg = chart(results.roles.sweep, `${m.date.slice(0, 10)} · ${m.nproc} cores · Node ${m.node} · separate roles · ceilings in the same run: see the table`)
  const dir = plan.name === 'full' ? RESULTS : TMP
  mkdirSync(dir, { recursive: true })
  const stem = plan.name === 'full' ? 'latest' : 'smoke'
  writeFileSync(join(dir, `${stem}.json`), JSON.stringify(results, null, 2) + '\n')
  writeFileSync(join(dir, `${stem}.md`), table)
  writeFileSync(join(dir, `${stem}.svg`), svg)
  process.stdout.write('\n' + table + '\n')
  log(`wrote ${join(dir, stem)}.{json,md,svg} in ${Math.round(seconds)} s`)
  if (plan.name === 'smoke') {
    // The smoke run proves the harness: every scenario produced figures. It asserts nothing about speed.
    const missing = [
      results.roles.intake.load.accepted > 0 ? '' : 'roles intake accepted nothing',
      results.roles.email.complete ? '' : 'roles email deliveries did not all arrive',
      results.roles.inapp.complete ? '' : 'roles in-app deliveries did not all arrive on their streams',
      results.all.email.complete ? '' : 'all-mode email deliveries did not all arrive',
      results.all.inapp.complete ? '' : 'all-mode in-app deliveries did not all arrive',
      results.growth.length === plan.growth.length ? '' : 'growth incomplete',
      results.ceilings.http.perSecond > 0 && results.ceilings.db.perSecond > 0 && results.ceilings.smtp.perSecond > 0 && results.ceilings.queue.perSecond > 0 ? '' : 'a ceiling measured nothing'
    ].filter(Boolean)
    if (missing.length > 0) throw new Error('smoke: ' + missing.join('; '))
    log('smoke: the harness works')
  }
}

function mergePeaks (...all: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const p of all) for (const [k, v] of Object.entries(p)) out[k] = round(Math.max(out[k] ?? 0, v))
  return out
}

const watchdog = setTimeout(() => {
  log(`the run passed its time limit of ${LIMIT_MS / 60000} minutes: stopping`)
  void cleanup().finally(() => process.exit(1))
}, LIMIT_MS)
watchdog.unref()

async function cleanup (): Promise<void> {
  await stopAll().catch(() => {})
  await dropAllDatabases().catch(() => {})
  await cleanAllPrefixes().catch(() => {})
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { void cleanup().finally(() => process.exit(130)) })

try {
  await main()
  await cleanup()
  process.exit(0)
} catch (err) {
  log('failed:', (err as Error).stack ?? err)
  await cleanup()
  process.exit(1)
}
