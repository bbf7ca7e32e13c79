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
  /** Asked-for rate; what is offered is the nearest K × 2 × r (see offeredRate). */
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
  /** The rate actually offered (requests/s), when one was asked for. */
  offeredRate: number | null
}

export async function runLoad (o: LoadOptions): Promise<LoadResult> {
  let n = o.start ?? 0
  const latencies: number[] = []
  const statusCodes: Record<string, number> = {}
  let lastResponseAt = 0
  // An offered rate becomes K instances × c connections × r requests per connection per second.
  const c = 2
  const perConnection = o.overallRate !== undefined ? Math.max(1, Math.ceil(o.overallRate / (c * 16))) : undefined
  const instances = o.overallRate !== undefined && perConnection !== undefined ? Math.max(1, Math.round(o.overallRate / (c * perConnection))) : 1
  const offeredRate = perConnection !== undefined ? instances * c * perConnection : undefined
  const startedAt = wallMs()
  const results = await Promise.all(Array.from({ length: instances }, async (_, i) => {
    await sleep((i * 1000) / instances)
    const opts = {
      url: o.url,
      ...(perConnection !== undefined
        ? { connections: c, connectionRate: perConnection, amount: c * perConnection * o.duration }
        : { connections: o.connections, ...(o.amount !== undefined ? { amount: o.amount } : {}) }),
      duration: o.duration,
      timeout: 10,
      headers: { authorization: `Bearer ${o.apiKey}`, 'content-type': 'application/json' },
      requests: [{
        method: 'POST',
        path: '/notifications',
        setupRequest: (req: Record<string, unknown>) => ({ ...req, body: JSON.stringify(notificationBody(o.channel, n++, o.run, o.inboxes)) })
      }]
    } satisfies autocannon.Options
    const instance = autocannon(opts)
    instance.on('response', (_client, statusCode, _bytes, ms) => {
      statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1
      lastResponseAt = wallMs()
      if (statusCode >= 200 && statusCode < 300) latencies.push(ms)
    })
    // autocannon ignores the duration once an amount is given: the time bound is kept here.
    const timer = setTimeout(() => instance.stop(), Math.max(0, startedAt + (o.duration + 2) * 1000 - wallMs()))
    try { return await instance } finally { clearTimeout(timer) }
  }))
  // From the first request sent to the last response: autocannon's own wind-down is not load.
  const endedAt = lastResponseAt || wallMs()
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
    instances,
    offeredRate: offeredRate ?? null
  }
}

if (process.argv[2]) {
  const out = await runLoad(JSON.parse(process.argv[2]) as LoadOptions)
  process.stdout.write(JSON.stringify(out) + '\n')
}
