/** How much each scenario does: the full benchmark (under 15 minutes on 2 cores) or the smoke run (seconds). */
export interface Plan {
  name: 'full' | 'smoke'
  /** In-flight requests of the load generator, and the concurrency of the database ceiling. */
  connections: number
  intakeSec: number
  /** Notifications per delivery measurement (closed loop: the backlog drains at the delivery rate). */
  deliveryAmount: number
  deliveryMaxSec: number
  drainTimeoutSec: number
  /** Offered rates of the latency sweep, as fractions of the highest rate sustained. */
  sweep: number[]
  sweepSec: number
  halfLoadSec: number
  smtpAmount: number
  queueAmount: number
  redisJobs: number
  growth: number[]
  inboxes: number
  idleSettleMs: number
  /** The settings the system runs with (its defaults unless the benchmark found better ones). */
  poolSize: number
  workerConcurrency: number
  smtpPoolSize: number
}

const base = { poolSize: 10, workerConcurrency: 20, smtpPoolSize: 5 }

export const PLANS: Record<Plan['name'], Plan> = {
  full: {
    ...base,
    name: 'full',
    connections: 32,
    intakeSec: 8,
    deliveryAmount: 4000,
    deliveryMaxSec: 30,
    drainTimeoutSec: 120,
    sweep: [0.25, 0.5, 0.75, 1],
    sweepSec: 6,
    halfLoadSec: 10,
    smtpAmount: 10000,
    queueAmount: 10000,
    redisJobs: 20000,
    growth: [1000, 10000, 100000],
    inboxes: 50,
    idleSettleMs: 3000
  },
  smoke: {
    ...base,
    name: 'smoke',
    connections: 4,
    intakeSec: 1,
    deliveryAmount: 40,
    deliveryMaxSec: 10,
    drainTimeoutSec: 30,
    sweep: [0.5],
    sweepSec: 1,
    halfLoadSec: 1,
    smtpAmount: 50,
    queueAmount: 100,
    redisJobs: 100,
    growth: [100],
    inboxes: 4,
    idleSettleMs: 500
  }
}
