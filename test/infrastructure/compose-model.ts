import YAML from 'yaml'

/** docker-compose.yml as the policy rules see it: the parsed file (YAML merge keys resolved) and small accessors. */
export type Service = Record<string, unknown>
export interface Compose { services: Record<string, Service>, networks?: Record<string, Record<string, unknown> | null>, volumes?: Record<string, unknown>, [k: string]: unknown }

export interface ComposeRule {
  id: string
  title: string
  check: (c: Compose) => string[]
  breaks: Array<{ what: string, mutate: (c: Compose) => void }>
}

export const ROLES = ['notification-service', 'channel-orchestrator', 'email-service', 'sms-service', 'inapp-service', 'push-service'] as const
/** The host ports users need, by service; every other service publishes nothing. */
export const PUBLISHED: Record<string, number[]> = { 'notification-service': [3000], 'sms-service': [3003], 'inapp-service': [3004], mailpit: [8025] }
/** Services that must sit on internal networks only: they neither face users nor reach out. */
export const INTERNAL_ONLY = ['postgres', 'redis', 'migrate', 'channel-orchestrator']
export const ONE_SHOT = ['migrate']

export function loadCompose (text: string): Compose {
  return YAML.parse(text, { merge: true }) as Compose
}

/** Resolves ${VAR:-default} to its default and ${VAR}, ${VAR:?msg} to <VAR>: what compose does with an empty environment. */
export function defaults (value: unknown): string {
  return String(value ?? '').replace(/\$\{([A-Z0-9_]+)(?::?-([^}]*)|:?\?[^}]*)?\}/g, (_m, name: string, def?: string) => def ?? `<${name}>`)
}

export function bytes (size: unknown): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(String(size ?? ''))
  if (!m) return 0
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g']
  return Number(m[1]) * unit
}

export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
export const entries = (c: Compose) => Object.entries(c.services ?? {})
export const roles = (c: Compose) => entries(c).filter(([name]) => (ROLES as readonly string[]).includes(name))
export const longRunning = (c: Compose) => entries(c).filter(([name]) => !ONE_SHOT.includes(name))
export const limits = (s: Service) => ((s.deploy as { resources?: { limits?: Record<string, unknown> } } | undefined)?.resources?.limits ?? {})
export const env = (s: Service): Record<string, unknown> => {
  const e = s.environment
  if (Array.isArray(e)) return Object.fromEntries(e.map((x) => String(x).split(/=(.*)/s).slice(0, 2)))
  return (e ?? {}) as Record<string, unknown>
}
export const networksOf = (s: Service): string[] => (Array.isArray(s.networks) ? s.networks.map(String) : Object.keys((s.networks ?? {}) as object))
export const svc = (c: Compose, name: string): Service => {
  const s = c.services[name]
  if (!s) throw new Error(`mutation: no service ${name}`)
  return s
}

export const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|AUTH)/i
export const CREDENTIAL_URL = /:\/\/[^/\s:@]+:([^/\s@]+)@/
export const SENSITIVE = /^(\/|\/etc|\/proc|\/sys|\/dev|\/boot|\/root|\/usr|\/lib|\/var\/run|\/run|\/var\/lib\/docker)(\/|$)|docker\.sock/
