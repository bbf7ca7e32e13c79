import t from 'tap'
import { createBatcher } from '../../src/modules/notifications/batcher.js'

/** A write that records each batch it was given and answers once `release` is called. */
function recordingWrite (fail?: (items: number[]) => unknown) {
  const batches: number[][] = []
  const open: Array<() => void> = []
  const write = async (items: number[]): Promise<string[]> => {
    batches.push(items)
    await new Promise<void>((resolve) => open.push(resolve))
    const err = fail?.(items)
    if (err) throw err
    return items.map((i) => `row-${i}`)
  }
  const release = () => { for (const r of open.splice(0)) r() }
  return { write, batches, release }
}

const settle = async () => await new Promise((resolve) => setImmediate(resolve))

t.test('a lone write goes out at once, alone', async (t) => {
  const w = recordingWrite()
  const b = createBatcher(w.write, { maxBatch: 10, maxInFlight: 2 })
  const one = b.write(1)
  await settle()
  t.same(w.batches, [[1]])
  w.release()
  t.equal(await one, 'row-1')
})

t.test('writes that arrive while others are in flight share one batch, each gets its own result', async (t) => {
  const w = recordingWrite()
  const b = createBatcher(w.write, { maxBatch: 3, maxInFlight: 1 })
  const first = b.write(0)
  await settle()
  const rest = [1, 2, 3, 4, 5].map((i) => b.write(i))
  await settle()
  t.same(w.batches, [[0]], 'nothing more starts while the one allowed write is in flight')
  w.release()
  await first
  await settle()
  t.same(w.batches, [[0], [1, 2, 3]], 'then at most maxBatch together')
  w.release()
  await settle()
  t.same(w.batches, [[0], [1, 2, 3], [4, 5]])
  w.release()
  t.same(await Promise.all(rest), ['row-1', 'row-2', 'row-3', 'row-4', 'row-5'], 'in order')
})

t.test('a batch that fails on one bad row is written again one by one: only that request fails', async (t) => {
  const bad = new Error('row 2 violates a constraint')
  const w = recordingWrite((items) => items.includes(2) ? bad : undefined)
  const b = createBatcher(w.write, { maxBatch: 10, maxInFlight: 1 })
  const first = b.write(0)
  await settle()
  const rest = [1, 2, 3].map(async (i) => await b.write(i).catch((err: unknown) => err))
  await settle()
  w.release()
  await first
  await settle()
  t.same(w.batches.at(-1), [1, 2, 3])
  w.release()
  await settle()
  await settle()
  t.same(w.batches.slice(2), [[1], [2], [3]], 'each written again alone')
  w.release()
  t.same(await Promise.all(rest), ['row-1', bad, 'row-3'])
})

t.test('when the database is unreachable every request of the batch fails at once, nothing is retried here', async (t) => {
  const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })
  const w = recordingWrite(() => down)
  const b = createBatcher(w.write, { maxBatch: 10, maxInFlight: 1 })
  const first = b.write(0).catch((err: unknown) => err)
  await settle()
  const rest = [1, 2].map(async (i) => await b.write(i).catch((err: unknown) => err))
  await settle()
  w.release()
  t.equal(await first, down)
  await settle()
  w.release()
  t.same(await Promise.all(rest), [down, down])
  t.equal(w.batches.length, 2, 'no one-by-one retry against a database that is away')
})
