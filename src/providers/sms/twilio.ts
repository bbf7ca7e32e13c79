import twilio from 'twilio'
import type RequestClient from 'twilio/lib/base/RequestClient.js'
import { ProviderError, parseRetryAfter, type SendResult } from '../types.js'

export interface SmsMessage {
  /** E.164 */
  to: string
  body: string
}

export interface SmsProvider {
  send: (message: SmsMessage) => Promise<SendResult>
  close: () => Promise<void>
}

/** Twilio codes that say the number itself will not take the message: trying again cannot help. */
export const INVALID_ADDRESS_CODES = new Set([
  21211, // invalid 'To' number
  21217, // number does not appear to be valid
  21401, // invalid phone number
  21407, // destination not supported
  21408, // no permission to send to this region
  21610, // recipient replied STOP (unsubscribed)
  21612, // 'To' not reachable from this 'From'
  21614, // 'To' is not a mobile number
  30003, 30005, 30006 // (status callbacks) unreachable, unknown, landline or unreachable carrier
])

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_SOCKET_CONNECTION_TIMEOUT'])
type TwilioFailure = Error & { status?: number, code?: number | string, headers?: Record<string, string | undefined> }

/**
 * Twilio's answer as our outcome: a refused number fails for good (`invalid_address`), another 4xx
 * will not get better either (`provider_rejected`); 429, 5xx and network failures are retried,
 * after `Retry-After` when Twilio said so.
 */
export function classifyTwilioError (err: TwilioFailure): ProviderError {
  const { status } = err
  const code = typeof err.code === 'number' ? err.code : undefined
  const label = `twilio ${status ?? err.code ?? 'error'}${code !== undefined ? ` (code ${code})` : ''}: ${err.message}`
  const retryAfterMs = parseRetryAfter(err.headers?.['retry-after'])
  if (typeof status === 'number') {
    if (status === 429 || status === 408 || status >= 500) {
      return new ProviderError(label, { retryable: true, reason: status === 429 ? 'rate_limited' : 'provider_unavailable', retryAfterMs })
    }
    if (code !== undefined && INVALID_ADDRESS_CODES.has(code)) return new ProviderError(label, { retryable: false, reason: 'invalid_address' })
    if (status >= 400) return new ProviderError(label, { retryable: false, reason: 'provider_rejected' })
  }
  if (typeof err.code === 'string' && NETWORK_CODES.has(err.code)) {
    return new ProviderError(label, { retryable: true, reason: 'provider_unreachable' })
  }
  return new ProviderError(label, { retryable: true, reason: 'provider_error' })
}

/**
 * An httpClient that sends to another origin (twilio's `edge`/`region` only rewrite *.twilio.com
 * hosts) and throws the RestException itself on a non-2xx answer, so it carries the response
 * headers (Retry-After): twilio's own RestException has none, and `lastResponse` is shared by
 * concurrent requests.
 */
export class OriginRequestClient extends twilio.RequestClient {
  readonly #origin: URL

  constructor (origin: string, opts?: RequestClient.RequestClientOptions) {
    super(opts)
    this.#origin = new URL(origin)
  }

  override async request<TData> (opts: RequestClient.RequestOptions<TData>) {
    const url = new URL(opts.uri)
    url.protocol = this.#origin.protocol
    url.host = this.#origin.host
    const res = await super.request({ ...opts, uri: url.href })
    const body: unknown = res.body
    // RFC 9457 bodies (type + title) are left to twilio, which throws TwilioServiceException.
    const rfc9457 = typeof body === 'object' && body !== null && 'type' in body && 'title' in body
    if ((res.statusCode < 200 || res.statusCode > 299) && !rfc9457) {
      const err = new twilio.RestException(res) as TwilioFailure
      err.headers = { ...(res.headers as Record<string, string | undefined>) }
      throw err
    }
    return res
  }
}

/** SMS through Twilio's Messages API. `from` is an E.164 number or a Messaging Service SID (MG…). */
export function createTwilioProvider ({ accountSid, authToken, from, apiBaseUrl = 'https://api.twilio.com', statusCallbackUrl, timeoutMs = 15000 }: {
  accountSid: string
  authToken: string
  from: string
  apiBaseUrl?: string
  statusCallbackUrl?: string
  timeoutMs?: number
}): SmsProvider {
  const httpClient = new OriginRequestClient(apiBaseUrl, { timeout: timeoutMs, keepAlive: true })
  const client = twilio(accountSid, authToken, { httpClient })
  const sender = /^MG[0-9a-fA-F]{32}$/.test(from) ? { messagingServiceSid: from } : { from }
  return {
    async send ({ to, body }) {
      try {
        const message = await client.messages.create({
          to,
          body,
          ...sender,
          ...(statusCallbackUrl ? { statusCallback: statusCallbackUrl } : {})
        })
        return { providerMessageId: message.sid }
      } catch (err) {
        throw classifyTwilioError(err as TwilioFailure)
      }
    },
    async close () {
      (httpClient.axios.defaults.httpsAgent as { destroy?: () => void } | undefined)?.destroy?.()
    }
  }
}

/** Whether X-Twilio-Signature is Twilio's signature of this callback (the public URL it called and its form fields). */
export function isTwilioSignatureValid (authToken: string, signature: string, url: string, params: Record<string, unknown>): boolean {
  return signature !== '' && twilio.validateRequest(authToken, signature, url, params)
}
