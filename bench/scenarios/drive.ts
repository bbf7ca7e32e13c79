import { randomBytes } from 'node:crypto'
import type { LoadOptions, LoadResult } from '../child/load.js'
import { API_KEY, inboxId, type BenchChannel } from '../lib/body.js'
import { query } from '../lib/infra.js'
import { cpuMeter, runChild, sampleRss } from '../lib/procs.js'
import { listenInboxes } from '../lib/sse.js'
import type { RunningSystem } from '../lib/system.js'
import { percentiles, round, sleep, wallMs } from '../lib/util.js'

export interface DriveOptions {
  system: RunningSystem
  databaseUrl: string
  tenantId: string
  channel: BenchChannel
  connections: number
  amount?: number
  duration: number
  /** Offered rate (requests/s); absent: as fast as the API answers. */
  rate?: number
  /** In-app: how many recipients, each with an open inbox stream, share the notifications. */
  inboxes: number
  drainTimeoutSec: number
  /** Wait for the deliveries (false: intake only). */
  deliver?: boolean
}

export interface DriveResult {
  channel: BenchChannel
  offeredRate: number | null
  /** In a sweep: the offered rate as a fraction of the highest rate sustained. */
  fraction?: number
  load: LoadResult
  sent: number
  ended: number
  complete: boolean
  /** Notifications a second from the first POST to the last one sent (in-app: announced on its stream). */
  deliveredPerSecond: number
  sentLatencyMs: ReturnType<typeof percentiles>
  announcedLatencyMs?: ReturnType<typeof percentiles>
  peakRssMb: Record<string, number>
  /** CPU milliseconds per notification, by role and for PostgreSQL (this run's database only). */
  cpuMsPerNotification: Record<string, number>
}

const counts = async (o: DriveOptions, since: number) => (await query<{ sent: number, ended: number }>(o.databaseUrl, `
  select count(*) filter (where d.status in ('sent', 'delivered'))::int as sent,
         count(*) filter (where d.status in ('failed', 'skipped', 'canceled'))::int as ended
  from notifications n join deliveries d on d.notification_id = n.id
  where n.tenant_id = $1 and n.created_at >= to_timestamp($2::float8 / 1000) and d.channel = $3`, [o.tenantId, since, o.channel]))[0] ?? { sent: 0, ended: 0 }

/**
 * Drives POST /notifications with autocannon (in its own process) and follows the notifications
 * to their end: accepted → sent from the database's own timestamps (the notification's created_at,
 * the sent attempt's created_at), and for in-app also the arrival of each `message` on its stream.
 */
export async function drive (o: DriveOptions): Promise<DriveResult> {
  const run = randomBytes(3).toString('hex')
  const listener = o.channel === 'inapp' && o.deliver !== false
    ? await listenInboxes(o.system.inboxUrl, API_KEY, Array.from({ length: o.inboxes }, (_, i) => inboxId(run, i)))
    : undefined
  const rss = sampleRss(o.system.procs)
  const cpu = cpuMeter(o.system.procs, new URL(o.databaseUrl).pathname.slice(1))
  const since = wallMs() - 5
  try {
    const loadOptions: LoadOptions = {
      url: o.system.apiUrl, apiKey: API_KEY, channel: o.channel, run, inboxes: o.inboxes,
      connections: o.connections, duration: o.duration,
      ...(o.amount !== undefined ? { amount: o.amount } : {}),
      ...(o.rate !== undefined ? { overallRate: o.rate } : {})
    }
    const load = await runChild<LoadResult>('load', [loadOptions], (o.duration + 60) * 1000)
    if (o.deliver === false) {
      return { channel: o.channel, offeredRate: load.offeredRate, load, sent: 0, ended: 0, complete: true, deliveredPerSecond: 0, sentLatencyMs: percentiles([]), peakRssMb: rss.stop(), cpuMsPerNotification: cpu.stop(load.accepted) }
    }
    const until = Date.now() + o.drainTimeoutSec * 1000
    let c = { sent: 0, ended: 0 }
    while (Date.now() < until) {
      // In-app: the streams say when all arrived, so the database is not polled while it works.
      if (listener && listener.arrivals.size < load.accepted) { await sleep(100); continue }
      c = await counts(o, since)
      if (c.sent + c.ended >= load.accepted) break
      await sleep(250)
    }
    const peakRssMb = rss.stop()
    const cpuMsPerNotification = cpu.stop(load.accepted)
    const rows = await query<{ id: string, accepted: number, sent: number }>(o.databaseUrl, `
      select n.id, extract(epoch from n.created_at) * 1000 as accepted, extract(epoch from a.created_at) * 1000 as sent
      from notifications n join deliveries d on d.notification_id = n.id
      join delivery_attempts a on a.delivery_id = d.id and a.outcome = 'sent'
      where n.tenant_id = $1 and n.created_at >= to_timestamp($2::float8 / 1000) and d.channel = $3`, [o.tenantId, since, o.channel])
    const sentLatency = rows.map((r) => Number(r.sent) - Number(r.accepted))
    let end = rows.reduce((m, r) => Math.max(m, Number(r.sent)), load.endedAt)
    let announcedLatencyMs: DriveResult['announcedLatencyMs']
    if (listener) {
      const accepted = new Map(rows.map((r) => [r.id, Number(r.accepted)]))
      const lat: number[] = []
      for (const [id, at] of listener.arrivals) { const a = accepted.get(id); if (a !== undefined) lat.push(at - a) }
      announcedLatencyMs = percentiles(lat)
      for (const at of listener.arrivals.values()) end = Math.max(end, at)
    }
    const delivered = listener ? Math.min(listener.arrivals.size, rows.length) : rows.length
    return {
      channel: o.channel,
      offeredRate: load.offeredRate,
      load,
      sent: c.sent,
      ended: c.ended,
      complete: c.sent + c.ended >= load.accepted && (!listener || listener.arrivals.size >= load.accepted),
      deliveredPerSecond: round(delivered / ((end - load.startedAt) / 1000)),
      sentLatencyMs: percentiles(sentLatency),
      ...(announcedLatencyMs ? { announcedLatencyMs } : {}),
      peakRssMb,
      cpuMsPerNotification
    }
  } finally {
    rss.stop()
    listener?.close()
  }
}
