import { envSchema } from 'env-schema'
import { Type, type Static, type TObject, type TProperties } from 'typebox'

export const ROLES = [
  'notification-service', 'channel-orchestrator', 'email-service',
  'sms-service', 'inapp-service', 'push-service', 'all'
] as const
export type Role = typeof ROLES[number]

export const DEFAULT_PORTS: Record<Role, number> = {
  'notification-service': 3000,
  'channel-orchestrator': 3001,
  'email-service': 3002,
  'sms-service': 3003,
  'inapp-service': 3004,
  'push-service': 3005,
  all: 3000
}

const Url = (protocols: string) => Type.String({ pattern: `^(${protocols})://`, minLength: 8 })
const Bool = Type.Union([Type.Literal('true'), Type.Literal('false')], { default: 'false' })
const Int = (def: number, minimum = 0) => Type.Integer({ default: def, minimum })

/** Settings every role has: where the data lives, how it listens, how it stops. */
const Shared = {
  SERVICE_ROLE: Type.Union(ROLES.map((r) => Type.Literal(r))),
  PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  HOST: Type.String({ default: '127.0.0.1' }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }),
  DATABASE_URL: Url('postgres|postgresql'),
  DATABASE_POOL_SIZE: Int(10, 1),
  REDIS_URL: Url('redis|rediss'),
  QUEUE_PREFIX: Type.String({ default: 'ns', pattern: '^[A-Za-z0-9_.-]+$' }),
  SHUTDOWN_TIMEOUT_MS: Int(10000, 100),
  WORKER_CONCURRENCY: Int(20, 1),
  JOB_LOCK_MS: Int(30000, 1000),
  MAX_ATTEMPTS: Int(5, 1),
  RETRY_BASE_DELAY_MS: Int(1000, 1),
  // Channel tuning with defaults: harmless where a role does not send on the channel.
  SMTP_POOL_SIZE: Int(5, 1),
  SMTP_TIMEOUT_MS: Int(15000, 100),
  TWILIO_API_BASE_URL: Type.String({ default: 'https://api.twilio.com', pattern: '^https?://' }),
  // Below 30 s: proxies and load balancers commonly drop a connection idle for longer.
  SSE_KEEPALIVE_MS: Type.Integer({ default: 15000, minimum: 100, maximum: 29999 })
}

/** Settings of the public API (notification-service). */
const Api = {
  BOOTSTRAP_API_KEY: Type.Optional(Type.String({ minLength: 32 })),
  BODY_LIMIT_BYTES: Int(65536, 1024),
  RATE_LIMIT_MAX: Int(1000, 1),
  RATE_LIMIT_WINDOW_MS: Int(1000, 1),
  OUTBOX_POLL_MS: Int(1000, 10),
  INBOX_TOKEN_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  INBOX_TOKEN_TTL_SECONDS: Int(3600, 1),
  PUSH_ALLOW_PRIVATE_ENDPOINTS: Bool,
  VAPID_PUBLIC_KEY: Type.Optional(Type.String({ minLength: 40 }))
}

const Email = {
  SMTP_URL: Url('smtp|smtps'),
  EMAIL_FROM: Type.String({ minLength: 3 }),
}

const Sms = {
  TWILIO_ACCOUNT_SID: Type.String({ minLength: 2 }),
  TWILIO_AUTH_TOKEN: Type.String({ minLength: 2 }),
  TWILIO_FROM: Type.String({ minLength: 2 }),
  TWILIO_STATUS_CALLBACK_URL: Type.Optional(Type.String({ pattern: '^https?://' }))
}

const Push = {
  VAPID_PUBLIC_KEY: Type.String({ minLength: 40 }),
  VAPID_PRIVATE_KEY: Type.String({ minLength: 20 }),
  VAPID_SUBJECT: Type.String({ pattern: '^(mailto:|https:)' }),
  PUSH_ALLOW_PRIVATE_ENDPOINTS: Bool
}

const Inapp = {
  INBOX_TOKEN_SECRET: Type.Optional(Type.String({ minLength: 32 }))
}

const optional = (props: TProperties): TProperties =>
  Object.fromEntries(Object.entries(props).map(([k, v]) => [k, 'default' in v || (v as unknown as Record<string, unknown>)['~optional'] ? v : Type.Optional(v)]))

/**
 * One schema per role: each role requires its own settings and nothing else.
 * In single-process mode the channel settings are optional, so a developer can run
 * the system with only the channels they configured; the others fail their deliveries
 * with reason `channel_not_configured`.
 */
const ROLE_SETTINGS: Record<Role, TProperties[]> = {
  'notification-service': [Api],
  'channel-orchestrator': [],
  'email-service': [Email],
  'sms-service': [Sms],
  'inapp-service': [Inapp],
  'push-service': [Push],
  all: [Api, Inapp, optional(Email), optional(Sms), optional(Push)]
}

const schemaFor = (role: Role): TObject => Type.Object(Object.assign({}, Shared, ...ROLE_SETTINGS[role]))

const Full = Type.Object({ ...Shared, ...Api, ...Inapp, ...Type.Partial(Type.Object({ ...Email, ...Sms, ...Push })).properties })
type Env = Static<typeof Full>

export type Config = Omit<Env, 'PORT' | 'PUSH_ALLOW_PRIVATE_ENDPOINTS'> & {
  PORT: number
  PUSH_ALLOW_PRIVATE_ENDPOINTS: boolean
  roles: Exclude<Role, 'all'>[]
}

/** The one setting the migration command needs. */
export function loadDatabaseUrl (env: NodeJS.ProcessEnv = process.env): string {
  const url = env.DATABASE_URL
  if (!url || !/^postgres(ql)?:\/\//.test(url)) throw new ConfigError('DATABASE_URL is required: a postgres:// connection string')
  return url
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Reads and checks the settings for the role named by SERVICE_ROLE; throws naming the variable. */
export function loadConfig (env: NodeJS.ProcessEnv = process.env): Config {
  const role = env.SERVICE_ROLE
  if (!role) throw new ConfigError('SERVICE_ROLE is required: one of ' + ROLES.join(', '))
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new ConfigError(`SERVICE_ROLE "${role}" is unknown: use one of ${ROLES.join(', ')}`)
  }
  const schema = schemaFor(role as Role)
  const data = Object.fromEntries(Object.keys(schema.properties).filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]))
  let parsed: Env
  try {
    parsed = envSchema<Env>({ schema, data, dotenv: false, env: false })
  } catch (err) {
    throw new ConfigError(describe(err as Error))
  }
  const r = role as Role
  return {
    ...parsed,
    PORT: parsed.PORT ?? DEFAULT_PORTS[r],
    PUSH_ALLOW_PRIVATE_ENDPOINTS: (parsed.PUSH_ALLOW_PRIVATE_ENDPOINTS as unknown) === 'true',
    roles: r === 'all' ? ROLES.filter((x): x is Exclude<Role, 'all'> => x !== 'all') : [r]
  }
}

// env-schema says "must have required property 'DATABASE_URL'" or "/PORT must be <= 65535"; turn both into "DATABASE_URL ...".
function describe (err: Error & { errors?: Array<{ instancePath: string, message?: string, params?: Record<string, unknown> }> }): string {
  const errors = err.errors ?? []
  if (errors.length === 0) return err.message
  return 'invalid settings: ' + errors.map((e) => {
    const name = (e.params?.missingProperty as string | undefined) ?? e.instancePath.replace(/^\//, '')
    return e.params?.missingProperty ? `${name} is required` : `${name} ${e.message ?? 'is invalid'}`
  }).join('; ')
}
