// Node's socket errors and PostgreSQL's "cannot take connections" classes (08 connection, 53 resources, 57P admin shutdown).
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'])

/** True when the error says the database could not be reached, rather than that the query was wrong. */
export function isDatabaseUnreachable (err: unknown): boolean {
  for (let e = err as { code?: unknown, message?: unknown, cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    const code = typeof e.code === 'string' ? e.code : ''
    if (UNREACHABLE.has(code) || /^(08|53|57P)/.test(code)) return true
    if (typeof e.message === 'string' && /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(e.message)) return true
  }
  return false
}
