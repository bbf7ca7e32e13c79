import { asc, inArray, sql } from 'drizzle-orm'
import type { FastifyBaseLogger } from 'fastify'
import type { Db } from '../../db/client.js'
import { outbox } from '../../db/schema.js'
import type { QueueName } from '../../queues/contracts.js'
import type { Queues } from '../../plugins/queues.js'

const BATCH = 200

/**
 * Moves outbox rows to BullMQ. A row leaves the outbox only once its job is in Redis, so a
 * notification accepted while Redis is away is enqueued when Redis is back. Rows are locked with
 * SKIP LOCKED, so several API replicas relay side by side; a job id already in Redis is kept as is.
 */
export function createOutboxRelay ({ db, queues, log, pollMs }: { db: Db, queues: Queues, log: FastifyBaseLogger, pollMs: number }) {
  let running: Promise<void> | undefined
  let again = false
  let timer: NodeJS.Timeout | undefined
  let stopped = false

  async function drainOnce (): Promise<number> {
    return await db.transaction(async (tx) => {
      const rows = await tx.select().from(outbox).orderBy(asc(outbox.id)).limit(BATCH).for('update', { skipLocked: true })
      if (rows.length === 0) return 0
      const now = Date.now()
      await Promise.all(rows.map((r) => queues.add(r.queue as QueueName, r.jobName, r.payload, {
        jobId: r.jobId,
        delay: r.runAt ? Math.max(0, r.runAt.getTime() - now) : undefined
      })))
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

  return {
    kick,
    start () {
      timer = setInterval(kick, pollMs)
      timer.unref()
      kick()
    },
    async stop () {
      stopped = true
      if (timer) clearInterval(timer)
      await running
    },
    async pending (): Promise<number> {
      const r = await db.execute<{ n: number }>(sql`select count(*)::int as n from ${outbox}`)
      return r.rows[0]?.n ?? 0
    }
  }
}
export type OutboxRelay = ReturnType<typeof createOutboxRelay>
