import t from 'tap'
import { classifyTwilioError, createTwilioProvider, isTwilioSignatureValid } from '../../src/providers/sms/twilio.js'
import { ProviderError, parseRetryAfter } from '../../src/providers/types.js'
import { startTwilioApi } from '../peers/twilio-api.js'

const accountSid = 'AC' + 'f'.repeat(32)
const authToken = 'provider-test-token'
const rest = (status: number, code?: number, headers: Record<string, string> = {}) =>
  Object.assign(new Error('twilio says no'), { status, code, headers })

t.test('classifyTwilioError: numbers that will never work fail for good as invalid_address', async (t) => {
  for (const code of [21211, 21614, 21610, 21408, 21612, 21217]) {
    const e = classifyTwilioError(rest(400, code))
    t.type(e, ProviderError)
    t.match(e, { retryable: false, reason: 'invalid_address' }, `code ${code}`)
    t.match(e.message, String(code))
  }
})

t.test('classifyTwilioError: other 4xx are final provider_rejected; 429, 408, 5xx retry with Retry-After', async (t) => {
  t.match(classifyTwilioError(rest(400, 21606)), { retryable: false, reason: 'provider_rejected' })
  t.match(classifyTwilioError(rest(401, 20003)), { retryable: false, reason: 'provider_rejected' }, 'bad credentials will not fix themselves')
  t.match(classifyTwilioError(rest(404, 20404)), { retryable: false, reason: 'provider_rejected' })
  t.match(classifyTwilioError(rest(429, 20429, { 'retry-after': '7' })), { retryable: true, reason: 'rate_limited', retryAfterMs: 7000 })
  t.match(classifyTwilioError(rest(408)), { retryable: true })
  for (const s of [500, 502, 503]) t.match(classifyTwilioError(rest(s)), { retryable: true, reason: 'provider_unavailable' }, String(s))
  t.equal(classifyTwilioError(rest(503)).retryAfterMs, undefined, 'no Retry-After: the worker backs off on its own')
})

t.test('classifyTwilioError: network failures retry; unknown errors retry too', async (t) => {
  for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'ENOTFOUND']) {
    t.match(classifyTwilioError(Object.assign(new Error(code), { code })), { retryable: true, reason: 'provider_unreachable' }, code)
  }
  t.match(classifyTwilioError(new Error('something odd')), { retryable: true, reason: 'provider_error' })
})

t.test('parseRetryAfter: seconds, HTTP dates, garbage, and a cap', async (t) => {
  const now = Date.parse('2026-01-01T00:00:00Z')
  t.equal(parseRetryAfter('3', now), 3000)
  t.equal(parseRetryAfter(['2'], now), 2000)
  t.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now), 10000)
  t.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0, 'a date in the past means now')
  t.equal(parseRetryAfter('soon', now), undefined)
  t.equal(parseRetryAfter(undefined, now), undefined)
  t.equal(parseRetryAfter('', now), undefined)
  t.equal(parseRetryAfter('86400', now), 3600_000, 'capped at an hour')
})

t.test('the provider against the Twilio peer: number sender, Messaging Service sender, no callback unless configured', async (t) => {
  const peer = await startTwilioApi({ accountSid, authToken })
  t.teardown(() => peer.close())
  const number = createTwilioProvider({ accountSid, authToken, from: '+15005550001', apiBaseUrl: peer.origin })
  t.teardown(() => number.close())
  const r = await number.send({ to: '+15005550006', body: 'one' })
  t.match(r.providerMessageId, /^SM[0-9a-f]{32}$/)
  t.same(peer.messages[0]?.form, { To: '+15005550006', From: '+15005550001', Body: 'one' }, 'no StatusCallback when none is configured')

  const mg = 'MG' + 'a'.repeat(32)
  const service = createTwilioProvider({ accountSid, authToken, from: mg, apiBaseUrl: peer.origin, statusCallbackUrl: 'https://x.example/cb' })
  t.teardown(() => service.close())
  await service.send({ to: '+15005550006', body: 'two' })
  t.same(peer.messages[1]?.form, { To: '+15005550006', MessagingServiceSid: mg, Body: 'two', StatusCallback: 'https://x.example/cb' })

  peer.script(() => ({ status: 429, retryAfter: 4 }))
  const limited = await number.send({ to: '+15005550006', body: 'x' }).catch((e: unknown) => e)
  t.match(limited, { retryable: true, reason: 'rate_limited', retryAfterMs: 4000 }, 'Retry-After reaches the classification through the http client')
  peer.script(() => ({ status: 400, code: 21614 }))
  t.match(await number.send({ to: '+15005550006', body: 'x' }).catch((e: unknown) => e), { retryable: false, reason: 'invalid_address' })

  const wrong = createTwilioProvider({ accountSid, authToken: 'wrong', from: '+15005550001', apiBaseUrl: peer.origin })
  t.match(await wrong.send({ to: '+15005550006', body: 'x' }).catch((e: unknown) => e), { retryable: false, reason: 'provider_rejected', message: /401.*20003/ })

  const closed = createTwilioProvider({ accountSid, authToken, from: '+15005550001', apiBaseUrl: 'http://127.0.0.1:9' })
  t.match(await closed.send({ to: '+15005550006', body: 'x' }).catch((e: unknown) => e), { retryable: true, reason: 'provider_unreachable' })
})

t.test('isTwilioSignatureValid refuses an empty signature', async (t) => {
  t.equal(isTwilioSignatureValid(authToken, '', 'https://x.example/cb', {}), false)
})
