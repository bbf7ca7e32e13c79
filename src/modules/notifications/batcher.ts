import { isDatabaseUnreachable } from '../../db/errors.js'

interface Waiting<T, R> { item: T, resolve: (r: R) => void, reject: (err: unknown) => void }

/**
 * Writes together what arrives while earlier writes are on their way: under load one statement
 * and one commit carry many requests, while a request that comes alone is written at once (it
 * waits only for the event loop's next turn). A batch that fails for another reason than the
 * database being away is written again one by one, so one bad row fails only its own request.
 */
export function createBatcher<T, R> (write: (items: T[]) => Promise<R[]>, { maxBatch, maxInFlight }: { maxBatch: number, maxInFlight: number }) {
  const pending: Array<Waiting<T, R>> = []
  let inFlight = 0
  let scheduled = false

  async function run (batch: Array<Waiting<T, R>>): Promise<void> {
    inFlight++
    try {
      const results = await write(batch.map((b) => b.item))
      batch.forEach((b, i) => b.resolve(results[i] as R))
    } catch (err) {
      if (batch.length === 1 || isDatabaseUnreachable(err)) for (const b of batch) b.reject(err)
      else for (const b of batch) write([b.item]).then(([r]) => b.resolve(r as R), b.reject)
    } finally {
      inFlight--
      flush()
    }
  }

  function flush (): void {
    while (pending.length > 0 && inFlight < maxInFlight) void run(pending.splice(0, maxBatch))
  }

  return {
    async write (item: T): Promise<R> {
      return await new Promise<R>((resolve, reject) => {
        pending.push({ item, resolve, reject })
        if (scheduled) return
        scheduled = true
        setImmediate(() => { scheduled = false; flush() })
      })
    }
  }
}
