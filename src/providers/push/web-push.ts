import { createECDH, createPublicKey } from 'node:crypto'
import dns, { type LookupAddress } from 'node:dns'
import { Agent } from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import ipaddr from 'ipaddr.js'
import webpush from 'web-push'
import { ProviderError, parseRetryAfter, type SendResult } from '../types.js'

export interface PushTarget { endpoint: string, keys: { p256dh: string, auth: string } }
export interface PushPayload { title?: string, text: string, url?: string, data?: Record<string, unknown>, notificationId: string }
export interface PushOptions { TTL: number, urgency: 'very-low' | 'low' | 'normal' | 'high' }

export interface PushProvider {
  send: (target: PushTarget, payload: PushPayload, options: PushOptions) => Promise<SendResult>
  close: () => Promise<void>
}

/** RFC 8291: a 4096-byte record less the aes128gcm header (86), the padding delimiter (1) and the tag (16). */
export const MAX_PAYLOAD_BYTES = 3993
const NOT_ALLOWED = 'ERR_PUSH_ENDPOINT_NOT_ALLOWED'

/** Whether anybody on the internet could reach this address: global unicast only (IPv4-mapped IPv6 judged as its IPv4). */
export function isPublicAddress (address: string): boolean {
  if (!ipaddr.isValid(address)) return false
  return ipaddr.process(address).range() === 'unicast'
}

export type EndpointCheck = { allowed: true, url: URL } | { allowed: false, why: string, transient?: boolean }
type Resolve = (host: string) => Promise<string[]>
const resolveAll: Resolve = async (host) => (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => a.address)

/**
 * A push endpoint is a URL a stranger gave us, and we POST to it: only `https:` on hosts that
 * resolve to public addresses only, unless private ones are allowed (tests, on-premise push services).
 */
export async function checkPushEndpoint (endpoint: string, { allowPrivate, resolve = resolveAll }: { allowPrivate: boolean, resolve?: Resolve }): Promise<EndpointCheck> {
  let url: URL
  try { url = new URL(endpoint) } catch { return { allowed: false, why: 'is not a URL' } }
  if (url.protocol !== 'https:') return { allowed: false, why: `must be an https: URL (got ${url.protocol})` }
  if (url.username || url.password) return { allowed: false, why: 'must not carry credentials' }
  if (allowPrivate) return { allowed: true, url }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  let addresses: string[]
  if (isIP(host)) addresses = [host]
  else {
    try { addresses = await resolve(host) } catch (err) {
      const code = (err as { code?: string }).code ?? 'error'
      return { allowed: false, why: `host ${host} does not resolve (${code})`, transient: true }
    }
  }
  const bad = addresses.find((a) => !isPublicAddress(a))
  if (bad !== undefined || addresses.length === 0) {
    return { allowed: false, why: `host ${host} is not on a public address (${bad ?? 'none'}); set PUSH_ALLOW_PRIVATE_ENDPOINTS=true to allow private push services` }
  }
  return { allowed: true, url }
}

/** A dns lookup for the sending agent that refuses private answers, so a host re-pointed after the check (DNS rebinding) is still refused. */
export const publicOnlyLookup = ((hostname: string, options: dns.LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '')
    const bad = addresses.find((a) => !isPublicAddress(a.address))
    if (bad || addresses.length === 0) {
      return callback(Object.assign(new Error(`${hostname} resolves to ${bad?.address ?? 'nothing'}, not a public address`), { code: NOT_ALLOWED }), '')
    }
    if (options.all) return callback(null, addresses)
    const [first] = addresses as [LookupAddress]
    callback(null, first.address, first.family)
  })
}) as LookupFunction

const B64URL = /^[A-Za-z0-9_-]+={0,2}$/

/** What is wrong with a subscription's keys (naming the key), or undefined: p256dh an uncompressed P-256 point, auth 16 bytes. */
export function subscriptionKeysProblem (keys: { p256dh: string, auth: string }): string | undefined {
  const p = B64URL.test(keys.p256dh) ? Buffer.from(keys.p256dh, 'base64url') : undefined
  if (!p || p.length !== 65 || p[0] !== 4) return 'keys/p256dh must be a base64url uncompressed P-256 public key (65 bytes starting 0x04)'
  try {
    createPublicKey({ format: 'jwk', key: { kty: 'EC', crv: 'P-256', x: p.subarray(1, 33).toString('base64url'), y: p.subarray(33).toString('base64url') } })
  } catch {
    return 'keys/p256dh is not a point on the P-256 curve'
  }
  const a = B64URL.test(keys.auth) ? Buffer.from(keys.auth, 'base64url') : undefined
  if (!a || a.length !== 16) return 'keys/auth must be a base64url 16-byte secret'
  return undefined
}

/** Checks a VAPID key pair: the public key must be the private key's, or every push service answers 403. */
export function vapidKeysProblem (publicKey: string, privateKey: string, subject: string): string | undefined {
  const pub = B64URL.test(publicKey) ? Buffer.from(publicKey, 'base64url') : undefined
  if (!pub || pub.length !== 65 || pub[0] !== 4) return 'the public key must be a base64url uncompressed P-256 point (65 bytes)'
  const priv = B64URL.test(privateKey) ? Buffer.from(privateKey, 'base64url') : undefined
  if (!priv || priv.length !== 32) return 'the private key must be base64url, 32 bytes'
  const ecdh = createECDH('prime256v1')
  try { ecdh.setPrivateKey(priv) } catch { return 'the private key is not a P-256 key' }
  if (!ecdh.getPublicKey().equals(pub)) return 'the public key is not the private key\'s'
  if (!/^(mailto:.+|https:\/\/.+)/.test(subject)) return 'the subject must be a mailto: or https: URL'
  return undefined
}

type PushFailure = Error & { statusCode?: number, headers?: Record<string, string | string[] | undefined>, body?: string, code?: string }

/** A push service's answer as our outcome: 404/410 the subscription is gone, 413 too large, 429/5xx and the network retry. */
export function classifyWebPushError (err: PushFailure): ProviderError {
  const status = err.statusCode
  if (err.code === NOT_ALLOWED) return new ProviderError(err.message, { retryable: false, reason: 'endpoint_not_allowed' })
  if (typeof status === 'number') {
    const label = `push service answered ${status}${err.body ? `: ${String(err.body).slice(0, 200)}` : ''}`
    const retryAfterMs = parseRetryAfter(err.headers?.['retry-after'])
    if (status === 404 || status === 410) return new ProviderError(label, { retryable: false, reason: 'subscription_gone' })
    if (status === 413) return new ProviderError(label, { retryable: false, reason: 'payload_too_large' })
    if (status === 429) return new ProviderError(label, { retryable: true, reason: 'rate_limited', retryAfterMs })
    if (status >= 500 || status === 408) return new ProviderError(label, { retryable: true, reason: 'provider_unavailable', retryAfterMs })
    return new ProviderError(label, { retryable: false, reason: 'provider_rejected' })
  }
  return new ProviderError(`push service unreachable: ${err.code ?? err.message}`, { retryable: true, reason: 'provider_unreachable' })
}

/**
 * Web Push with VAPID (RFC 8292) and aes128gcm (RFC 8291). Each send re-checks the endpoint:
 * addresses change. `ca` is for tests in process; deployments use NODE_EXTRA_CA_CERTS.
 */
export function createWebPushProvider ({ publicKey, privateKey, subject, allowPrivate, ca, timeoutMs = 15000 }: {
  publicKey: string
  privateKey: string
  subject: string
  allowPrivate: boolean
  ca?: string
  timeoutMs?: number
}): PushProvider {
  const problem = vapidKeysProblem(publicKey, privateKey, subject)
  if (problem) throw new Error(`invalid VAPID settings: ${problem}`)
  const vapidDetails = { subject, publicKey, privateKey }
  const agent = new Agent({ keepAlive: true, ...(ca ? { ca } : {}), ...(allowPrivate ? {} : { lookup: publicOnlyLookup }) })
  return {
    async send (target, payload, { TTL, urgency }) {
      const check = await checkPushEndpoint(target.endpoint, { allowPrivate })
      if (!check.allowed) {
        throw new ProviderError(`push endpoint ${check.why}`, { retryable: check.transient === true, reason: check.transient ? 'provider_unreachable' : 'endpoint_not_allowed' })
      }
      const keysProblem = subscriptionKeysProblem(target.keys)
      if (keysProblem) throw new ProviderError(`stored subscription: ${keysProblem}`, { retryable: false, reason: 'subscription_gone' })
      const body = JSON.stringify(payload)
      if (Buffer.byteLength(body) > MAX_PAYLOAD_BYTES) {
        throw new ProviderError(`payload is ${Buffer.byteLength(body)} bytes; Web Push takes at most ${MAX_PAYLOAD_BYTES}`, { retryable: false, reason: 'payload_too_large' })
      }
      try {
        // The URL as parsed by the check, so web-push (url.parse) connects where the check looked.
        const res = await webpush.sendNotification({ endpoint: check.url.href, keys: target.keys }, body, {
          vapidDetails, TTL, urgency, contentEncoding: 'aes128gcm', agent, timeout: timeoutMs
        })
        const location = res.headers.location
        return { providerMessageId: typeof location === 'string' ? location : undefined }
      } catch (err) {
        throw classifyWebPushError(err as PushFailure)
      }
    },
    async close () { agent.destroy() }
  }
}
