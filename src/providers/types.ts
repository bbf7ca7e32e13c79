/** What every provider returns when the vendor took the message. */
export interface SendResult {
  providerMessageId?: string
}

/**
 * A vendor's refusal, classified: retryable ones are tried again with backoff (or after
 * `retryAfterMs` when the vendor said so); the others end the delivery with `reason`.
 */
export class ProviderError extends Error {
  override name = 'ProviderError'
  readonly retryable: boolean
  readonly reason: string
  readonly retryAfterMs?: number

  constructor (message: string, { retryable, reason, retryAfterMs }: { retryable: boolean, reason: string, retryAfterMs?: number }) {
    super(message)
    this.retryable = retryable
    this.reason = reason
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs
  }
}

/** The provider a channel has when its settings are missing (single-process mode only). */
export const unconfigured = (channel: string, settings: string) => ({
  async send (): Promise<SendResult> {
    throw new ProviderError(`${channel} is not configured: set ${settings}`, { retryable: false, reason: 'channel_not_configured' })
  },
  async close (): Promise<void> {}
})

const MAX_RETRY_AFTER_MS = 3600_000

/** Retry-After as milliseconds (delta-seconds or an HTTP date), capped at an hour; undefined when absent or unreadable. */
export function parseRetryAfter (value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value
  if (v === undefined || v.trim() === '') return undefined
  const ms = /^\d+$/.test(v.trim()) ? Number(v) * 1000 : Date.parse(v) - now
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS) : undefined
}
