import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root, found from this file whether it runs from bench/ or from its compiled copy. */
function findRoot (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 10; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bench'))) return dir
    dir = resolve(dir, '..')
  }
  throw new Error('repository root not found')
}

export const ROOT = findRoot()
export const BUILD = join(ROOT, 'bench', 'results', 'tmp', 'build', 'bench')
export const RESULTS = join(ROOT, 'bench', 'results')
export const TMP = join(RESULTS, 'tmp')

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export const wallMs = (): number => performance.timeOrigin + performance.now()

export const log = (...parts: unknown[]): void => { console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...parts) }

/** Polls fn until it returns something truthy; throws naming what it waited for once timeoutMs has passed. */
export async function waitFor<T> (fn: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 20000, intervalMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v) return v
    } catch (err) { last = err }
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ': ' + (last as Error).message : ''}`)
    await sleep(intervalMs)
  }
}

export const round = (n: number, digits = 1): number => { const f = 10 ** digits; return Math.round(n * f) / f }

/** Percentiles of a sample (nearest rank); an empty sample gives zeros. */
export function percentiles (values: number[]): { n: number, p50: number, p90: number, p99: number, max: number } {
  if (values.length === 0) return { n: 0, p50: 0, p90: 0, p99: 0, max: 0 }
  const s = [...values].sort((a, b) => a - b)
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] as number
  return { n: s.length, p50: round(at(0.5)), p90: round(at(0.9)), p99: round(at(0.99)), max: round(s[s.length - 1] as number) }
}
