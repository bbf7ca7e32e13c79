import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { API_KEY, EMAIL_FROM } from './body.js'
import { REDIS_URL, cleanRedisPrefix, usePrefix } from './infra.js'
import { freePort, startRole, type Proc } from './procs.js'
import { TMP } from './util.js'

export type Mode = 'roles' | 'all'
export const WORKER_ROLES = ['channel-orchestrator', 'email-service', 'inapp-service'] as const

export interface SystemOptions {
  mode: Mode
  databaseUrl: string
  smtpUrl: string
  /** Extra settings (pool sizes, concurrency) on top of the benchmark's. */
  env?: Record<string, string>
  /** Writes a CPU profile of every role to bench/results/tmp/prof when it stops. */
  profile?: boolean
}

export interface RunningSystem {
  mode: Mode
  env: Record<string, string>
  prefix: string
  /** Where POST /notifications goes, and where the inbox streams are. */
  apiUrl: string
  inboxUrl: string
  procs: Array<Proc & { url: string }>
  /** Starts the worker roles (roles mode, when started with workers: false). */
  startWorkers: () => Promise<void>
  stop: () => Promise<void>
}

/**
 * Starts the system: in `all` mode one process; in `roles` mode the API, the orchestrator and the
 * email and in-app services as their own processes, as production runs them. Each run has its own
 * queue prefix, removed from Redis when it stops.
 */
export async function startSystem (o: SystemOptions, { workers = true } = {}): Promise<RunningSystem> {
  const prefix = usePrefix('nsbench-' + randomBytes(4).toString('hex'))
  const env: Record<string, string> = {
    DATABASE_URL: o.databaseUrl,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    BOOTSTRAP_API_KEY: API_KEY,
    INBOX_TOKEN_SECRET: 'bench-inbox-secret-' + 'x'.repeat(32),
    LOG_LEVEL: 'warn',
    // The benchmark measures capacity, not the per-tenant rate limit.
    RATE_LIMIT_MAX: '100000000',
    SMTP_URL: o.smtpUrl,
    EMAIL_FROM,
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...o.env
  }
  const nodeArgs = (role: string) => o.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(TMP, 'prof')}`, `--cpu-prof-name=${role}-${Date.now()}.cpuprofile`] : []
  const procs: RunningSystem['procs'] = []
  const launch = async (role: string) => {
    const p = await startRole(role, await freePort(), env, nodeArgs(role))
    procs.push(p)
    return p
  }
  if (o.mode === 'all') {
    const p = await launch('all')
    return {
      mode: o.mode, env, prefix, apiUrl: p.url, inboxUrl: p.url, procs,
      startWorkers: async () => {},
      stop: async () => { await Promise.all(procs.map((x) => x.stop())); await cleanRedisPrefix(prefix) }
    }
  }
  const api = await launch('notification-service')
  let inbox: (Proc & { url: string }) | undefined
  const startWorkers = async () => {
    if (inbox) return
    const started = await Promise.all(WORKER_ROLES.map(launch))
    inbox = started[WORKER_ROLES.indexOf('inapp-service')]
  }
  if (workers) await startWorkers()
  const system: RunningSystem = {
    mode: o.mode, env, prefix, apiUrl: api.url, procs, startWorkers,
    get inboxUrl () { if (!inbox) throw new Error('the in-app service is not started'); return inbox.url },
    stop: async () => { await Promise.all(procs.map((x) => x.stop())); await cleanRedisPrefix(prefix) }
  }
  return system
}
