import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { DbCeilingOptions } from '../child/db-ceiling.js'
import type { LoadOptions, LoadResult } from '../child/load.js'
import type { QueueCeilingOptions } from '../child/queue-ceiling.js'
import type { SmtpCeilingOptions } from '../child/smtp-ceiling.js'
import { API_KEY } from '../lib/body.js'
import { REDIS_URL, cleanRedisPrefix, createDatabase, dropDatabase, ensureTenant } from '../lib/infra.js'
import { cpuMeter, freePort, runChild, start } from '../lib/procs.js'
import { BUILD, percentiles, round, waitFor } from '../lib/util.js'

export interface Ceiling { perSecond: number, latencyMs?: { p50: number, p99: number }, detail: Record<string, unknown> }

/** A bare Fastify with the same route schema, answering 202 and doing nothing else. */
export async function httpCeiling ({ connections, duration }: { connections: number, duration: number }): Promise<Ceiling> {
  const port = await freePort()
  const server = start('http-ceiling', process.execPath, [join(BUILD, 'child', 'http-ceiling.js'), String(port)])
  try {
    const url = `http://127.0.0.1:${port}`
    await waitFor(async () => (await fetch(url + '/health').catch(() => undefined))?.ok, 'the HTTP ceiling server', 15000)
    const opts: LoadOptions = { url, apiKey: API_KEY, channel: 'email', run: 'ceiling', connections, duration }
    const r = await runChild<LoadResult>('load', [opts], (duration + 30) * 1000)
    return { perSecond: round(r.acceptedPerSecond), latencyMs: { p50: r.latencyMs.p50, p99: r.latencyMs.p99 }, detail: { accepted: r.accepted, non2xx: r.non2xx, errors: r.errors, seconds: round(r.seconds, 2) } }
  } finally { await server.stop() }
}

/** The same rows written straight to PostgreSQL with pg, with the API's pool size and the same concurrency. */
export async function dbCeiling ({ connections, duration, poolSize }: { connections: number, duration: number, poolSize: number }): Promise<Ceiling> {
  const db = await createDatabase()
  try {
    const tenantId = await ensureTenant(db.url)
    const opts: DbCeilingOptions = { databaseUrl: db.url, tenantId, run: 'ceiling', poolSize, concurrency: connections, duration }
    const r = await runChild<{ written: number, seconds: number, perSecond: number, latencyMs: ReturnType<typeof percentiles> }>('db-ceiling', [opts], (duration + 30) * 1000)
    return { perSecond: round(r.perSecond), latencyMs: { p50: r.latencyMs.p50, p99: r.latencyMs.p99 }, detail: { written: r.written, seconds: round(r.seconds, 2), poolSize, concurrency: connections } }
  } finally { await dropDatabase(db.name) }
}

/** The system's nodemailer provider straight to the same sink, with the same pool and the worker's concurrency. */
export async function smtpCeiling (o: Omit<SmtpCeilingOptions, 'timeoutSec'>): Promise<Ceiling> {
  const r = await runChild<{ sent: number, failed: number, seconds: number, perSecond: number, latencyMs: ReturnType<typeof percentiles> }>('smtp-ceiling', [{ ...o, timeoutSec: 60 }], 90000)
  if (r.failed > 0) throw new Error(`the SMTP ceiling had ${r.failed} failed sends`)
  return { perSecond: round(r.perSecond), latencyMs: { p50: r.latencyMs.p50, p99: r.latencyMs.p99 }, detail: { sent: r.sent, seconds: round(r.seconds, 2), poolSize: o.poolSize, concurrency: o.concurrency } }
}

/** BullMQ no-op jobs through two hops (producer → hop 1 → hop 2), one process each, as the roles run. */
export async function queueCeiling (o: Omit<QueueCeilingOptions, 'redisUrl' | 'prefix' | 'timeoutSec'>): Promise<Ceiling> {
  const opts: QueueCeilingOptions = { ...o, redisUrl: REDIS_URL, prefix: 'nsbench-q-' + randomBytes(4).toString('hex'), timeoutSec: 60 }
  const script = join(BUILD, 'child', 'queue-ceiling.js')
  const hop1 = start('queue-hop1', process.execPath, [script, 'hop1', JSON.stringify(opts)])
  const hop2 = start('queue-hop2', process.execPath, [script, 'hop2', JSON.stringify(opts)])
  try {
    await Promise.all([hop1.line((l) => l === 'ready', 15000), hop2.line((l) => l === 'ready', 15000)])
    const producer = start('queue-producer', process.execPath, [script, 'producer', JSON.stringify(opts)])
    const cpu = cpuMeter([producer, hop1, hop2])
    const [p, h] = await Promise.all([
      producer.line((l) => l.startsWith('{'), 70000).then((l) => JSON.parse(l) as { startedAt: number, addedAt: number }),
      hop2.line((l) => l.startsWith('{'), 70000).then((l) => JSON.parse(l) as { done: number, lastAt: number })
    ])
    const cpuMsPerJob = cpu.stop(h.done)
    await producer.stop()
    if (h.done < o.amount) throw new Error(`the queue ceiling moved only ${h.done} of ${o.amount} jobs`)
    return { perSecond: round(h.done / ((h.lastAt - p.startedAt) / 1000)), detail: { jobs: h.done, seconds: round((h.lastAt - p.startedAt) / 1000, 2), hops: 2, addsInFlight: o.concurrency, workerConcurrency: o.workerConcurrency, addPerSecond: round(o.amount / ((p.addedAt - p.startedAt) / 1000)), cpuMsPerJob } }
  } finally {
    await Promise.all([hop1.stop(), hop2.stop()])
    await cleanRedisPrefix(opts.prefix)
  }
}
