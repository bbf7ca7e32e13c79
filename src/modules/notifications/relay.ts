import { asc, inArray, lt, sql } from 'drizzle-orm'
import type { FastifyBaseLogger } from 'fastify'
import type { Db } from '../../db/client.js'
import { outbox } from '../../db/schema.js'
import type { QueueName } from '../../queues/contracts.js'
import type { Queues } from '../../plugins/queues.js'

const BATCH = 200
// Rows of jobs already in Redis are deleted together every so often: one statement (and one commit) for many.
const DELETE_EVERY_MS = 20

export interface OutboxJob { outboxId: number, queue: string, jobName: string, jobId: string, payload: Record<string, unknown>, runAt: Date | null }
type Row = Omit<OutboxJob, 'outboxId'>

/**
 * Moves outbox rows to BullMQ. The API hands each accepted notification's job to Redis itself,
 * right after its commit (`send`): the jobs of requests that commit together go in one round trip,
 * and their outbox rows are deleted together once Redis has them. What could not be handed over
 * (Redis away, the process stopped first) stays in the outbox and the poll enqueues it later, so a
 * notification accepted while Redis is away is enqueued when Redis is back. The poll locks rows
 * with SKIP LOCKED, so several API replicas relay side by side; a job id already in Redis is kept
 * as is, so a job handed over twice (directly and by the poll) runs once.
 */
export function createOutboxRelay ({ db, queues, log, pollMs }: { db: Db, queues: Queues, log: FastifyBaseLogger, pollMs: number }) {
  let running: Promise<void> | undefined
  let again = false
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  let batch: OutboxJob[] = []
  let adding: Promise<void> | undefined
  const sent: number[] = []
  let deleting: Promise<void> | undefined

  /** Enqueues rows, one round trip per queue. */
  const enqueue = async (rows: Row[]) => {
    const now = Date.now()
    const byQueue = new Map<string, Row[]>()
    for (const r of rows) byQueue.set(r.queue, [...(byQueue.get(r.queue) ?? []), r])
    const job = (r: Row) => ({ name: r.jobName, data: r.payload, opts: { jobId: r.jobId, delay: r.runAt ? Math.max(0, r.runAt.getTime() - now) : undefined } })
    // A MULTI costs two commands more: worth it from two jobs on.
    await Promise.all([...byQueue].map(async ([queue, rs]) => {
      const [only] = rs
      if (rs.length === 1 && only) { const j = job(only); await queues.add(queue as QueueName, j.name, j.data, j.opts) } else await queues.addBulk(queue as QueueName, rs.map(job))
    }))
  }

  async function drainOnce (): Promise<number> {
    return await db.transaction(async (tx) => {
      // Rows younger than a poll interval are still being handed over by the request that wrote them.
      const rows = await tx.select().from(outbox)
        .where(lt(outbox.createdAt, sql`now() - make_interval(secs => ${pollMs / 1000})`))
        .orderBy(asc(outbox.id)).limit(BATCH).for('update', { skipLocked: true })
      if (rows.length === 0) return 0
      await enqueue(rows)
      await tx.delete(outbox).where(inArray(outbox.id, rows.map((r) => r.id)))
      return rows.length
    })
  }

  async function drain (): Promise<void> {
    try {
      do {
        again = false
        while (!stopped && await drainOnce() === BATCH);
      } while (again && !stopped)
    } catch (err) {
      log.warn({ err }, 'outbox relay could not enqueue; the rows stay and are retried')
    }
  }

  const kick = (): void => {
    if (stopped) return
    if (running) { again = true; return }
    running = drain().finally(() => { running = undefined })
  }

  /** Deletes the rows whose jobs are in Redis: one statement for all that gathered meanwhile. */
  async function flushSent (): Promise<void> {
    while (sent.length > 0) {
      const ids = sent.splice(0, sent.length)
      await db.delete(outbox).where(inArray(outbox.id, ids)).catch((err: unknown) => {
        // Left in the outbox, the poll enqueues them again: BullMQ keeps the job it has.
        log.warn({ err }, 'outbox rows of enqueued jobs not deleted; the relay will see them again')
      })
    }
  }

  /** Hands the jobs gathered since the last turn of the event loop to Redis; while one batch is on its way the next one gathers. */
  async function addBatches (): Promise<void> {
    while (batch.length > 0) {
      const jobs = batch
      batch = []
      try {
        await enqueue(jobs)
        sent.push(...jobs.map((j) => j.outboxId))
        deleting ??= new Promise<void>((resolve) => setTimeout(resolve, DELETE_EVERY_MS)).then(flushSent).finally(() => { deleting = undefined })
      } catch (err) {
        log.debug({ err, jobs: jobs.length }, 'jobs not handed to Redis; the outbox relay will')
      }
    }
  }

  return {
    kick,
    /** Hands one committed job to Redis now; on failure it waits in the outbox for the poll. */
    send (job: OutboxJob): void {
      if (stopped) return
      batch.push(job)
      adding ??= new Promise<void>((resolve) => setImmediate(resolve)).then(addBatches).finally(() => { adding = undefined })
    },
    start () {
      timer = setInterval(kick, pollMs)
      timer.unref()
      kick()
    },
    async stop () {
      stopped = true
      if (timer) clearInterval(timer)
      await running
      await adding
      await deleting
      await flushSent()
    },
    async pending (): Promise<number> {
      const r = await db.execute<{ n: number }>(sql`select count(*)::int as n from ${outbox}`)
      return r.rows[0]?.n ?? 0
    }
  }
}
export type OutboxRelay = ReturnType<typeof createOutboxRelay>
