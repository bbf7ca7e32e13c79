import type { DriveResult } from '../scenarios/drive.js'
import type { Ceiling } from '../scenarios/ceilings.js'
import type { Figures } from '../scenarios/system.js'
import type { Plan } from '../lib/plan.js'

export interface Machine { date: string, nproc: number, cpu: string, memoryGb: number, node: string, postgres: string, redis: string, os: string, loadAverageAtStart: number[], sink: string, nodeOptions?: string }

export interface Results {
  machine: Machine
  plan: Plan
  seconds: number
  ceilings: { http: Ceiling, db: Ceiling, smtp: Ceiling, queue: Ceiling }
  roles: Figures & { sweep: { email: DriveResult[], inapp: DriveResult[] }, peakRssMb: Record<string, number> }
  all: Figures & { peakRssMb: Record<string, number> }
  growth: Figures[]
  memory: { idleMb: Record<string, number>, redis: { jobs: number, bytesPerJob: number, bytesPerJobInfo: number } }
  goals: Goal[]
}

export interface Goal { id: string, what: string, figure: number, against: number, ratio: number | null, target: string, met: boolean, note?: string }

const ratio = (a: number, b: number) => b > 0 ? Math.round((a / b) * 100) / 100 : 0

/** The goals, each read from this run's figures and ceilings. */
export function goals (r: Omit<Results, 'goals'>): Goal[] {
  const { ceilings: c, roles } = r
  const lower = Math.min(c.http.perSecond, c.db.perSecond)
  const half = roles.sweep.inapp.find((s) => s.fraction === 0.5) ?? roles.sweep.inapp[0]
  const out: Goal[] = [
    { id: 'intake', what: 'intake ≥ 0.7 × lower of HTTP and DB ceilings', figure: round(roles.intake.load.acceptedPerSecond), against: lower, ratio: ratio(roles.intake.load.acceptedPerSecond, lower), target: '≥ 0.7', met: roles.intake.load.acceptedPerSecond >= 0.7 * lower },
    { id: 'email', what: 'email delivery ≥ 0.7 × SMTP ceiling', figure: roles.email.deliveredPerSecond, against: c.smtp.perSecond, ratio: ratio(roles.email.deliveredPerSecond, c.smtp.perSecond), target: '≥ 0.7', met: roles.email.deliveredPerSecond >= 0.7 * c.smtp.perSecond },
    { id: 'inapp', what: 'in-app delivery ≥ 0.5 × queue ceiling', figure: roles.inapp.deliveredPerSecond, against: c.queue.perSecond, ratio: ratio(roles.inapp.deliveredPerSecond, c.queue.perSecond), target: '≥ 0.5', met: roles.inapp.deliveredPerSecond >= 0.5 * c.queue.perSecond },
    { id: 'latency', what: 'in-app p99 accepted→sent at half load < 100 ms', figure: half?.sentLatencyMs.p99 ?? NaN, against: 100, ratio: null, target: '< 100 ms', met: (half?.sentLatencyMs.p99 ?? Infinity) < 100 }
  ]
  const base = { intake: roles.intake.load.acceptedPerSecond, email: roles.email.deliveredPerSecond, inapp: roles.inapp.deliveredPerSecond }
  let worst = Infinity
  let worstNote = ''
  for (const g of r.growth) {
    const figs = { intake: g.intake.load.acceptedPerSecond, email: g.email.deliveredPerSecond, inapp: g.inapp.deliveredPerSecond }
    for (const k of Object.keys(base) as Array<keyof typeof base>) {
      const q = ratio(figs[k], base[k])
      if (q < worst) { worst = q; worstNote = `${k} with ${g.stored} stored` }
    }
  }
  out.push({ id: 'growth', what: 'every growth figure ≥ 0.8 × the same on an empty database', figure: worst, against: 0.8, ratio: worst, target: '≥ 0.8', met: worst >= 0.8, note: `worst: ${worstNote}` })
  const idle = Object.entries(r.memory.idleMb)
  const maxIdle = idle.reduce((m, [, v]) => Math.max(m, v), 0)
  const heaviest = idle.find(([, v]) => v === maxIdle)?.[0] ?? ''
  out.push({ id: 'memory', what: 'each role < 120 MB resident when idle', figure: maxIdle, against: 120, ratio: null, target: '< 120 MB', met: maxIdle < 120, note: `largest: ${heaviest}` })
  return out
}

const round = (n: number) => Math.round(n * 10) / 10
