/**
 * The load generator, in a process of its own so its CPU is never the benchmark's event loop:
 * autocannon against POST /notifications, bounded by a count and a duration, optionally at a
 * fixed offered rate. Prints one JSON line with what it measured.
 *
 * autocannon limits a rate per connection per second, sending each second's budget at once, so
 * every connection would fire together at the top of each second. For an offered rate the load is
 * split over several autocannon instances started evenly across one second: the requests then come
 * in small groups many times a second rather than in one burst.
 */
import autocannon from 'autocannon'
import { notificationBody, type BenchChannel } from '../lib/body.js'
import { percentiles, sleep, wallMs } from '../lib/util.js'

export interface LoadOptions {
  url: string
  apiKey: string
  channel: BenchChannel
  run: string
  inboxes?: number
  connections: number
  /** Stop after this many requests... */
  amount?: number
  /** ...or after this many seconds, whichever comes first. */
  duration: number
  overallRate?: number
  start?: number
}

export interface LoadResult {
  sent: number
  accepted: number
  non2xx: number
  errors: number
  timeouts: number
  seconds: number
  acceptedPerSecond: number
  latencyMs: { p50: number, p90: number, p99: number, max: number, mean: number }
  startedAt: number
  endedAt: number
  statusCodes: Record<string, number>
  instances: number
}

/** Splits n into k integers that differ by at most one. */
const split = (n: number, k: number) => Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0))

export async function runLoad (o: LoadOptions): Promise<LoadResult> {
  let n = o.start ?? 0
  const latencies: number[] = []
  const statusCodes: Record<string, number> = {}
  const instances = o.overallRate !== undefined ? Math.max(1, Math.min(16, o.connections, Math.floor(o.overallRate / 2))) : 1
  const conns = split(o.connections, instances)
  const rates = o.overallRate !== undefined ? split(Math.round(o.overallRate), instances) : []
  const amounts = o.amount !== undefined ? split(o.amount, instances) : []
  const startedAt = wallMs()
  const results = await Promise.all(conns.map(async (connections, i) => {
    await sleep((i * 1000) / instances)
    const rate = rates[i]
    const amount = amounts[i]
    const opts = {
      url: o.url,
      connections: Math.max(1, Math.min(connections, rate ?? connections, amount ?? connections)),
      ...(amount !== undefined ? { amount } : {}),
      duration: Math.max(1, o.duration - (i * 1) / instances),
      ...(rate !== undefined ? { overallRate: rate } : {}),
      timeout: 10,
      headers: { authorization: `Bearer ${o.apiKey}`, 'content-type': 'application/json' },
      requests: [{
        method: 'POST',
        path: '/notifications',
        setupRequest: (req: Record<string, unknown>) => ({ ...req, body: JSON.stringify(notificationBody(o.channel, n++, o.run, o.inboxes)) })
      }]
    } satisfies autocannon.Options
    const instance = autocannon(opts, () => {})
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, ms: number) => {
      statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1
      if (statusCode >= 200 && statusCode < 300) latencies.push(ms)
    })
    return await instance
  }))
  const endedAt = wallMs()
  const sum = (f: (r: autocannon.Result) => number) => results.reduce((a, r) => a + f(r), 0)
  const accepted = sum((r) => r['2xx'])
  const seconds = (endedAt - startedAt) / 1000
  const p = percentiles(latencies)
  return {
    sent: sum((r) => r.requests.sent),
    accepted,
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    seconds,
    acceptedPerSecond: accepted / seconds,
    latencyMs: { p50: p.p50, p90: p.p90, p99: p.p99, max: p.max, mean: latencies.length ? Math.round(latencies.reduce((a, b) => a + b, 0) / latencies.length * 10) / 10 : 0 },
    startedAt,
    endedAt,
    statusCodes,
    instances
  }
}

if (process.argv[2]) {
  const out = await runLoad(JSON.parse(process.argv[2]) as LoadOptions)
  process.stdout.write(JSON.stringify(out) + '\n')
}
