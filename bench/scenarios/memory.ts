import { randomBytes, randomUUID } from 'node:crypto'
import { Queue, type JobsOptions } from 'bullmq'
import { Redis } from 'ioredis'
import webpush from 'web-push'
import { REDIS_URL, cleanRedisPrefix } from '../lib/infra.js'
import type { Proc } from '../lib/procs.js'
import { startSystem } from '../lib/system.js'
import { freePort, startRole } from '../lib/procs.js'
import { round, sleep } from '../lib/util.js'

/** RSS of a process at rest: the median of a few samples a moment after it started. */
async function idleRss (procs: Proc[], settleMs: number): Promise<Record<string, number>> {
  await sleep(settleMs)
  const samples = new Map<string, number[]>()
  for (let i = 0; i < 5; i++) {
    for (const p of procs) { const v = p.rssMb(); if (v !== undefined) samples.set(p.name, [...(samples.get(p.name) ?? []), v]) }
    await sleep(200)
  }
  return Object.fromEntries([...samples].map(([k, v]) => [k, round([...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] as number)]))
}

/**
 * Every role started on its own (sms and push with settings that need no peer until they send),
 * then the single-process mode, each measured idle: started, connected, no traffic.
 */
export async function idleMemory ({ databaseUrl, smtpUrl, settleMs }: { databaseUrl: string, smtpUrl: string, settleMs: number }): Promise<Record<string, number>> {
  const roles = await startSystem({ mode: 'roles', databaseUrl, smtpUrl })
  const vapid = webpush.generateVAPIDKeys()
  const extraEnv = {
    ...roles.env,
    TWILIO_ACCOUNT_SID: 'AC' + '0'.repeat(32),
    TWILIO_AUTH_TOKEN: 'bench-token',
    TWILIO_FROM: '+15005550006',
    TWILIO_API_BASE_URL: 'http://127.0.0.1:9',
    VAPID_PUBLIC_KEY: vapid.publicKey,
    VAPID_PRIVATE_KEY: vapid.privateKey,
    VAPID_SUBJECT: 'mailto:bench@example.com'
  }
  const extra = await Promise.all(['sms-service', 'push-service'].map(async (r) => await startRole(r, await freePort(), extraEnv)))
  const out = await idleRss([...roles.procs, ...extra], settleMs)
  await Promise.all(extra.map((p) => p.stop()))
  await roles.stop()
  const all = await startSystem({ mode: 'all', databaseUrl, smtpUrl })
  Object.assign(out, await idleRss(all.procs, settleMs))
  await all.stop()
  return out
}

/**
 * Redis memory per waiting job: jobs shaped like the API's (the orchestrate job, its id, the
 * system's job options) added to a paused queue. Measured twice: INFO used_memory (the whole
 * server, so other users of this Redis add noise) and MEMORY USAGE summed over this queue's keys.
 */
export async function redisPerJob (jobs: number) {
  const prefix = 'nsbench-m-' + randomBytes(4).toString('hex')
  const redis = new Redis(REDIS_URL)
  const opts: JobsOptions = { attempts: 5, backoff: { type: 'custom' }, removeOnComplete: { age: 3600, count: 10000 }, removeOnFail: { age: 7 * 24 * 3600 } }
  const queue = new Queue('orchestrator', { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix, defaultJobOptions: opts })
  const used = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0)
  const keysBytes = async () => {
    let total = 0
    let cursor = '0'
    for (let i = 0; i < 100000; i++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
      const pipe = redis.pipeline()
      for (const k of keys) pipe.memory('USAGE', k, 'SAMPLES', '0')
      for (const [, v] of (await pipe.exec()) ?? []) total += Number(v ?? 0)
      cursor = next
      if (cursor === '0') break
    }
    return total
  }
  try {
    await queue.pause()
    const before = { used: await used(), keys: await keysBytes() }
    for (let i = 0; i < jobs; i += 500) {
      await queue.addBulk(Array.from({ length: Math.min(500, jobs - i) }, () => {
        const id = randomUUID()
        return { name: 'orchestrate', data: { notificationId: id }, opts: { jobId: 'n-' + id } }
      }))
    }
    const waiting = await queue.getWaitingCount()
    const after = { used: await used(), keys: await keysBytes() }
    return {
      jobs: waiting,
      bytesPerJob: round((after.keys - before.keys) / waiting, 0),
      bytesPerJobInfo: round((after.used - before.used) / waiting, 0)
    }
  } finally {
    await queue.close()
    redis.disconnect()
    await cleanRedisPrefix(prefix)
  }
}
