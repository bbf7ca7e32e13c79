/**
 * The queue ceiling: BullMQ moving no-op jobs through as many hops as an in-app notification takes
 * before it is sent (API → orchestrator queue → in-app queue), one process per hop as the roles
 * run, with the system's job options, worker settings and concurrency, and ids-only payloads.
 *
 *   queue-ceiling.js hop1|hop2 <options>   a worker; hop1 forwards each job to the next queue
 *   queue-ceiling.js producer <options>    adds `amount` jobs with `concurrency` adds in flight
 */
import { randomUUID } from 'node:crypto'
import { Queue, Worker, type JobsOptions } from 'bullmq'
import { Redis } from 'ioredis'
import { wallMs } from '../lib/util.js'

export interface QueueCeilingOptions { redisUrl: string, prefix: string, amount: number, concurrency: number, workerConcurrency: number, timeoutSec: number }

// The system's defaults (src/plugins/queues.ts), so a job here costs Redis what one there does.
const defaultJobOptions: JobsOptions = { attempts: 5, backoff: { type: 'custom' }, removeOnComplete: { age: 3600, count: 10000 }, removeOnFail: { age: 7 * 24 * 3600 } }
const producerConnection = (url: string) => new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
const queue = (name: string, o: QueueCeilingOptions, connection: Redis) => new Queue(name, { connection, prefix: o.prefix, defaultJobOptions })

function worker (name: string, o: QueueCeilingOptions, processor: (data: { id: string }) => Promise<void>) {
  return new Worker(name, async (job) => { await processor(job.data as { id: string }) }, {
    connection: new Redis(o.redisUrl, { maxRetriesPerRequest: null }),
    prefix: o.prefix,
    concurrency: o.workerConcurrency,
    lockDuration: 30000,
    stalledInterval: 30000,
    maxStalledCount: 3
  })
}

async function hop1 (o: QueueCeilingOptions) {
  const next = queue('inapp', o, producerConnection(o.redisUrl))
  const w = worker('orchestrator', o, async ({ id }) => { await next.add('deliver', { deliveryId: id }, { jobId: id }) })
  await w.waitUntilReady()
  await next.waitUntilReady()
  process.stdout.write('ready\n')
}

async function hop2 (o: QueueCeilingOptions) {
  let done = 0
  let lastAt = 0
  let finish: () => void = () => {}
  const finished = new Promise<void>((resolve) => { finish = resolve })
  const w = worker('inapp', o, async () => {
    done++
    lastAt = wallMs()
    if (done >= o.amount) finish()
  })
  await w.waitUntilReady()
  process.stdout.write('ready\n')
  const timer = setTimeout(finish, o.timeoutSec * 1000)
  await finished
  clearTimeout(timer)
  process.stdout.write(JSON.stringify({ done, lastAt }) + '\n')
  await w.close()
  process.exit(0)
}

async function producer (o: QueueCeilingOptions) {
  const q = queue('orchestrator', o, producerConnection(o.redisUrl))
  await q.waitUntilReady()
  let next = 0
  const startedAt = wallMs()
  await Promise.all(Array.from({ length: o.concurrency }, async () => {
    while (next++ < o.amount) {
      const id = randomUUID()
      await q.add('orchestrate', { notificationId: id }, { jobId: 'n-' + id })
    }
  }))
  const addedAt = wallMs()
  process.stdout.write(JSON.stringify({ startedAt, addedAt }) + '\n')
  await q.close()
  process.exit(0)
}

const [mode, raw] = process.argv.slice(2)
if (mode && raw) {
  const o = JSON.parse(raw) as QueueCeilingOptions
  await ({ hop1, hop2, producer } as Record<string, (o: QueueCeilingOptions) => Promise<void>>)[mode]?.(o)
}
