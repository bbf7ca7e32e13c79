/**
 * The load generator, in a process of its own so its CPU is never the benchmark's event loop:
 * autocannon against POST /notifications, bounded by a count and a duration, optionally at a
 * fixed offered rate. Prints one JSON line with what it measured.
 */
import autocannon from 'autocannon'
import { notificationBody, type BenchChannel } from '../lib/body.js'
import { wallMs } from '../lib/util.js'

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
}

export async function runLoad (o: LoadOptions): Promise<LoadResult> {
  let n = o.start ?? 0
  const startedAt = wallMs()
  const result = await autocannon({
    url: o.url,
    connections: o.connections,
    ...(o.amount !== undefined ? { amount: o.amount } : {}),
    duration: o.duration,
    ...(o.overallRate !== undefined ? { overallRate: o.overallRate } : {}),
    timeout: 10,
    headers: { authorization: `Bearer ${o.apiKey}`, 'content-type': 'application/json' },
    requests: [{
      method: 'POST',
      path: '/notifications',
      setupRequest: (req: Record<string, unknown>) => ({ ...req, body: JSON.stringify(notificationBody(o.channel, n++, o.run, o.inboxes)) })
    }]
  } as autocannon.Options)
  const endedAt = wallMs()
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([k, v]) => [k, (v as { count: number }).count]))
  const accepted = result['2xx']
  const seconds = (endedAt - startedAt) / 1000
  return {
    sent: result.requests.sent,
    accepted,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds,
    acceptedPerSecond: accepted / seconds,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.mean },
    startedAt,
    endedAt,
    statusCodes
  }
}

if (process.argv[2]) {
  const out = await runLoad(JSON.parse(process.argv[2]) as LoadOptions)
  process.stdout.write(JSON.stringify(out) + '\n')
}
