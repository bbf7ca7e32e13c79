import type { DriveResult } from '../scenarios/drive.js'
import type { Results } from './results.js'

const n = (v: number) => v >= 100 ? String(Math.round(v)) : String(Math.round(v * 10) / 10)
const ms = (v: number) => `${n(v)} ms`
const yes = (met: boolean) => met ? '**met**' : '**missed**'
const lat = (d: DriveResult['sentLatencyMs']) => `p50 ${ms(d.p50)} · p90 ${ms(d.p90)} · p99 ${ms(d.p99)} · max ${ms(d.max)}`
const http = (d: DriveResult) => `p50 ${ms(d.load.latencyMs.p50)} · p99 ${ms(d.load.latencyMs.p99)}`
const ratio = (a: number, b: number) => b > 0 ? (a / b).toFixed(2) : '–'
const k = (stored: number) => stored >= 1000 ? `${stored / 1000}k` : String(stored)

export const halfLoad = (sweep: DriveResult[]): DriveResult | undefined => sweep.find((s) => s.fraction === 0.5) ?? sweep[0]

/** The short table the README shows: every figure beside its ceiling from the same run, and the goals. */
export function markdown (r: Results): string {
  const { ceilings: c, roles, all, machine: m } = r
  const g = Object.fromEntries(r.goals.map((x) => [x.id, x]))
  const lower = Math.min(c.http.perSecond, c.db.perSecond)
  const halfIn = halfLoad(roles.sweep.inapp)
  const halfEm = halfLoad(roles.sweep.email)
  const lines: string[] = []
  lines.push(`Run of ${m.date} on ${m.nproc} cores (${m.cpu}), ${m.memoryGb} GB, Node ${m.node}, ${m.postgres}, Redis ${m.redis}; SMTP sink: ${m.sink}; roles run with NODE_OPTIONS=\`${m.nodeOptions ?? ''}\` (the images'); ` +
    `${r.plan.name} plan, ${r.plan.connections} connections, pool ${r.plan.poolSize}, worker concurrency ${r.plan.workerConcurrency}, SMTP pool ${r.plan.smtpPoolSize}; took ${Math.round(r.seconds)} s.`)
  lines.push('')
  lines.push('| # | figure | this system (separate roles) | single process (`all`) | ceiling, same run | ratio | goal |')
  lines.push('| --- | --- | --- | --- | --- | --- | --- |')
  lines.push(`| 1 | intake, accepted \`POST /notifications\`/s | ${n(roles.intake.load.acceptedPerSecond)}/s (${http(roles.intake)}) | ${n(all.intake.load.acceptedPerSecond)}/s (${http(all.intake)}; delivering meanwhile) | HTTP ${n(c.http.perSecond)}/s (p50 ${ms(c.http.latencyMs?.p50 ?? 0)} · p99 ${ms(c.http.latencyMs?.p99 ?? 0)}); DB ${n(c.db.perSecond)}/s (p50 ${ms(c.db.latencyMs?.p50 ?? 0)} · p99 ${ms(c.db.latencyMs?.p99 ?? 0)}) | ${ratio(roles.intake.load.acceptedPerSecond, lower)} of the lower | ≥ 0.7: ${yes(g.intake?.met ?? false)} |`)
  lines.push(`| 2 | email delivery, POST → \`sent\` on the sink, notifications/s | ${n(roles.email.deliveredPerSecond)}/s | ${n(all.email.deliveredPerSecond)}/s | SMTP (nodemailer, same pool) ${n(c.smtp.perSecond)}/s | ${ratio(roles.email.deliveredPerSecond, c.smtp.perSecond)} | ≥ 0.7: ${yes(g.email?.met ?? false)} |`)
  lines.push(`| 3 | in-app delivery, POST → stored and announced on the stream, notifications/s | ${n(roles.inapp.deliveredPerSecond)}/s | ${n(all.inapp.deliveredPerSecond)}/s | queue (BullMQ no-op, 2 hops) ${n(c.queue.perSecond)}/s | ${ratio(roles.inapp.deliveredPerSecond, c.queue.perSecond)} | ≥ 0.5: ${yes(g.inapp?.met ?? false)} |`)
  if (halfIn) lines.push(`| 4 | in-app accepted → \`sent\` at half load (${n(halfIn.offeredRate ?? 0)}/s) | ${lat(halfIn.sentLatencyMs)}${halfIn.announcedLatencyMs ? `; on the stream p50 ${ms(halfIn.announcedLatencyMs.p50)} · p99 ${ms(halfIn.announcedLatencyMs.p99)}` : ''} | | | | p99 < 100 ms: ${yes(g.latency?.met ?? false)} |`)
  if (halfEm) lines.push(`| 4 | email accepted → \`sent\` at half load (${n(halfEm.offeredRate ?? 0)}/s) | ${lat(halfEm.sentLatencyMs)} | | | | |`)
  const idle = r.memory.idleMb
  const roleNames = Object.keys(idle).filter((x) => x !== 'all')
  lines.push(`| 5 | resident memory idle | ${roleNames.map((x) => `${x} ${n(idle[x] ?? 0)}`).join(' · ')} MB | ${n(idle.all ?? 0)} MB | | | each < 120 MB: ${yes(g.memory?.met ?? false)} |`)
  lines.push(`| 5 | resident memory at the highest sustained rate (peak) | ${Object.entries(roles.peakRssMb).map(([x, v]) => `${x} ${n(v)}`).join(' · ')} MB | ${n(all.peakRssMb.all ?? 0)} MB | | | |`)
  lines.push(`| 5 | Redis memory per waiting job | ${r.memory.redis.bytesPerJob} bytes (its keys' MEMORY USAGE; INFO used_memory says ${r.memory.redis.bytesPerJobInfo}) | | | | |`)
  const base = roles
  for (const gr of r.growth) {
    lines.push(`| 6 | with ${k(gr.stored)} notifications stored: intake · email · in-app /s | ${n(gr.intake.load.acceptedPerSecond)} · ${n(gr.email.deliveredPerSecond)} · ${n(gr.inapp.deliveredPerSecond)} | | empty: ${n(base.intake.load.acceptedPerSecond)} · ${n(base.email.deliveredPerSecond)} · ${n(base.inapp.deliveredPerSecond)} | ${ratio(gr.intake.load.acceptedPerSecond, base.intake.load.acceptedPerSecond)} · ${ratio(gr.email.deliveredPerSecond, base.email.deliveredPerSecond)} · ${ratio(gr.inapp.deliveredPerSecond, base.inapp.deliveredPerSecond)} | each ≥ 0.8 |`)
  }
  if (g.growth) lines.push(`| 6 | growth, worst ratio to the empty database | ${g.growth.figure} (${g.growth.note ?? ''}) | | | | ≥ 0.8: ${yes(g.growth.met)} |`)
  lines.push('')
  lines.push('Latency against offered rate (separate roles):')
  lines.push('')
  lines.push('| channel | offered/s | accepted/s | HTTP p50 · p99 | accepted → sent p50 · p90 · p99 · max | on the stream p50 · p99 |')
  lines.push('| --- | --- | --- | --- | --- | --- |')
  for (const s of [...roles.sweep.inapp, ...roles.sweep.email]) {
    lines.push(`| ${s.channel} | ${n(s.offeredRate ?? 0)} | ${n(s.load.acceptedPerSecond)} | ${ms(s.load.latencyMs.p50)} · ${ms(s.load.latencyMs.p99)} | ${ms(s.sentLatencyMs.p50)} · ${ms(s.sentLatencyMs.p90)} · ${ms(s.sentLatencyMs.p99)} · ${ms(s.sentLatencyMs.max)} | ${s.announcedLatencyMs ? `${ms(s.announcedLatencyMs.p50)} · ${ms(s.announcedLatencyMs.p99)}` : '–'} |`)
  }
  lines.push('')
  lines.push(`Goals met: ${r.goals.filter((x) => x.met).length} of ${r.goals.length} (${r.goals.map((x) => `${x.id} ${x.met ? 'met' : 'missed'}`).join(', ')}).`)
  return lines.join('\n') + '\n'
}
