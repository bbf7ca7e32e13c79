import { Queue, Worker, type Job, type JobsOptions, type Processor } from 'bullmq'
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import { QUEUES, type QueueName } from '../queues/contracts.js'

export interface RetryLater extends Error { retryAfterMs?: number }

export interface Queues {
  add: (queue: QueueName, name: string, data: object, opts: JobsOptions & { jobId: string }) => Promise<void>
  /** Several jobs of one queue in one round trip (a MULTI); a job id already there is kept, as with add. */
  addBulk: (queue: QueueName, jobs: Array<{ name: string, data: object, opts: JobsOptions & { jobId: string } }>) => Promise<void>
  remove: (queue: QueueName, jobId: string) => Promise<void>
  depth: () => Promise<Record<string, number>>
  /** Starts a worker on its own connection; it closes with the app, finishing active jobs first. */
  work: <T>(queue: QueueName, processor: (job: Job<T>) => Promise<void>) => Worker<T>
}

export default fp(async function queuesPlugin (app) {
  const { config } = app
  const queues = new Map<QueueName, Queue>()
  const workers: Worker[] = []
  const defaultJobOptions: JobsOptions = {
    attempts: config.MAX_ATTEMPTS,
    // 'custom' is the worker's backoffStrategy below: exponential with jitter, or the provider's Retry-After.
    backoff: { type: 'custom' },
    removeOnComplete: { age: 3600, count: 10000 },
    removeOnFail: { age: 7 * 24 * 3600 }
  }
  const queue = (name: QueueName): Queue => {
    let q = queues.get(name)
    if (!q) {
      q = new Queue(name, { connection: app.redis, prefix: config.QUEUE_PREFIX, defaultJobOptions })
      q.on('error', (err) => app.log.debug({ err, queue: name }, 'queue error'))
      queues.set(name, q)
    }
    return q
  }

  const api: Queues = {
    async add (name, jobName, data, opts) {
      await queue(name).add(jobName, data, opts)
    },
    async addBulk (name, jobs) {
      await queue(name).addBulk(jobs)
    },
    async remove (name, jobId) {
      await queue(name).remove(jobId).catch(() => 0)
    },
    async depth () {
      const out: Record<string, number> = {}
      for (const name of Object.values(QUEUES)) {
        const c = await queue(name).getJobCounts('wait', 'active', 'delayed', 'prioritized', 'waiting-children')
        out[name] = Object.values(c).reduce((a, b) => a + b, 0)
      }
      return out
    },
    work (name, processor) {
      const connection = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null })
      connection.on('error', (err) => app.log.debug({ err }, 'redis worker connection error'))
      const worker = new Worker(name, processor as Processor, {
        connection,
        prefix: config.QUEUE_PREFIX,
        concurrency: config.WORKER_CONCURRENCY,
        lockDuration: config.JOB_LOCK_MS,
        stalledInterval: config.JOB_LOCK_MS,
        maxStalledCount: 3,
        settings: {
          // A provider that says when to come back (Retry-After) is listened to; otherwise exponential with jitter.
          backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) => {
            const later = (err as RetryLater | undefined)?.retryAfterMs
            if (later !== undefined) return later
            const base = config.RETRY_BASE_DELAY_MS * 2 ** (attemptsMade - 1)
            return Math.round(base / 2 + Math.random() * base / 2)
          }
        }
      })
      worker.on('error', (err) => app.log.warn({ err, queue: name }, 'worker error'))
      worker.on('failed', (job, err) => app.log.debug({ err, queue: name, jobId: job?.id }, 'job attempt failed'))
      workers.push(worker as Worker)
      worker.on('closed', () => { void connection.quit().catch(() => connection.disconnect()) })
      return worker
    }
  }
  app.decorate('queues', api)
  app.addHook('onClose', async () => {
    await Promise.all(workers.map((w) => w.close()))
    await Promise.all([...queues.values()].map((q) => q.close()))
  })
}, { name: 'queues', dependencies: ['redis'] })
