import { createECDH } from 'node:crypto'
import { get } from 'node:https'
import t from 'tap'
import webpush from 'web-push'
import {
  MAX_PAYLOAD_BYTES, checkPushEndpoint, classifyWebPushError, createWebPushProvider, isPublicAddress,
  publicOnlyLookup, subscriptionKeysProblem, vapidKeysProblem
} from '../../src/providers/push/web-push.js'
import { startPushService } from '../peers/push-service.js'

const vapid = webpush.generateVAPIDKeys()
const subject = 'mailto:ops@example.test'

t.test('isPublicAddress: global unicast only', async (t) => {
  for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '2a00:1450:4001:80b::200a']) t.ok(isPublicAddress(a), a)
  for (const a of [
    '127.0.0.1', '127.1.2.3', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0',
    '224.0.0.1', '255.255.255.255', '192.0.2.1', '::1', '::', 'fe80::1', 'fd00::1', 'fc00::1', 'ff02::1',
    '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '2002:7f00:1::', '64:ff9b::a00:1', 'not-an-ip'
  ]) t.notOk(isPublicAddress(a), a)
  t.ok(isPublicAddress('::ffff:8.8.8.8'), 'an IPv4-mapped public address is judged as its IPv4')
})

t.test('checkPushEndpoint: https only, public addresses only, unless allowed', async (t) => {
  const refuse = async (endpoint: string, why: RegExp, resolve?: (h: string) => Promise<string[]>) => {
    const r = await checkPushEndpoint(endpoint, { allowPrivate: false, resolve })
    t.equal(r.allowed, false, endpoint)
    if (!r.allowed) t.match(r.why, why, endpoint)
  }
  await refuse('http://push.example.test/x', /https/)
  await refuse('ftp://push.example.test/x', /https/)
  await refuse('not a url', /not a URL/)
  await refuse('https://user:pw@8.8.8.8/x', /credentials/)
  for (const host of ['127.0.0.1', '10.0.0.1', '[::1]', '[fd00::1]', '169.254.169.254', '[::ffff:127.0.0.1]', '0x7f.1', '2130706433', '0.0.0.0']) {
    await refuse(`https://${host}/push/x`, /not on a public address/)
  }
  await refuse('https://localhost/push/x', /not on a public address/)
  await refuse('https://internal.example.test/x', /10\.1\.2\.3/, async () => ['10.1.2.3'])
  await refuse('https://mixed.example.test/x', /192\.168/, async () => ['8.8.8.8', '192.168.0.7'])
  const dns = await checkPushEndpoint('https://nowhere.example.test/x', {
    allowPrivate: false, resolve: async () => { throw Object.assign(new Error('x'), { code: 'ENOTFOUND' }) }
  })
  t.match(dns, { allowed: false, why: /does not resolve \(ENOTFOUND\)/, transient: true })

  const ok = await checkPushEndpoint('https://fcm.example.test/send/abc', { allowPrivate: false, resolve: async () => ['142.250.1.1', '2a00:1450::1'] })
  t.equal(ok.allowed, true)
  t.equal((await checkPushEndpoint('https://8.8.8.8/push/x', { allowPrivate: false })).allowed, true, 'a public literal needs no lookup')
  t.equal((await checkPushEndpoint('https://127.0.0.1:9/push/x', { allowPrivate: true })).allowed, true, 'private allowed when asked')
  t.equal((await checkPushEndpoint('http://127.0.0.1:9/push/x', { allowPrivate: true })).allowed, false, 'but never plain http')
})

t.test('publicOnlyLookup refuses a host that resolves to a private address at connect time', async (t) => {
  const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    publicOnlyLookup('localhost', {}, (e) => resolve(e))
  })
  t.match(err, { code: 'ERR_PUSH_ENDPOINT_NOT_ALLOWED', message: /localhost resolves to/ })
  // Through an https request, as the provider's agent makes them.
  const viaAgent = await new Promise<NodeJS.ErrnoException>((resolve) => {
    get('https://localhost:9/', { lookup: publicOnlyLookup }).on('error', resolve)
  })
  t.equal(viaAgent.code, 'ERR_PUSH_ENDPOINT_NOT_ALLOWED')
  t.match(classifyWebPushError(viaAgent), { retryable: false, reason: 'endpoint_not_allowed' })
})

t.test('subscriptionKeysProblem names the key', async (t) => {
  const ecdh = createECDH('prime256v1')
  ecdh.generateKeys()
  const p256dh = ecdh.getPublicKey().toString('base64url')
  const auth = Buffer.alloc(16, 7).toString('base64url')
  t.equal(subscriptionKeysProblem({ p256dh, auth }), undefined)
  t.equal(subscriptionKeysProblem({ p256dh: p256dh + '=', auth: auth + '==' }), undefined, 'padding is accepted')
  const offCurve = ecdh.getPublicKey()
  offCurve[40] = (offCurve[40] ?? 0) ^ 1
  t.match(subscriptionKeysProblem({ p256dh: offCurve.toString('base64url'), auth }), /keys\/p256dh is not a point/)
  t.match(subscriptionKeysProblem({ p256dh: ecdh.getPublicKey('base64url', 'compressed'), auth }), /keys\/p256dh.*65 bytes/)
  t.match(subscriptionKeysProblem({ p256dh: 'not base64!', auth }), /keys\/p256dh/)
  t.match(subscriptionKeysProblem({ p256dh, auth: Buffer.alloc(15).toString('base64url') }), /keys\/auth.*16-byte/)
  t.match(subscriptionKeysProblem({ p256dh, auth: 'a*b' }), /keys\/auth/)
})

t.test('vapidKeysProblem: a matching pair, or a reason', async (t) => {
  t.equal(vapidKeysProblem(vapid.publicKey, vapid.privateKey, subject), undefined)
  const other = webpush.generateVAPIDKeys()
  t.match(vapidKeysProblem(vapid.publicKey, other.privateKey, subject), /not the private key's/)
  t.match(vapidKeysProblem('short', vapid.privateKey, subject), /public key/)
  t.match(vapidKeysProblem(vapid.publicKey, 'short', subject), /private key/)
  t.match(vapidKeysProblem(vapid.publicKey, vapid.privateKey, 'ops@example.test'), /subject/)
  t.throws(() => createWebPushProvider({ publicKey: vapid.publicKey, privateKey: other.privateKey, subject, allowPrivate: true }), /invalid VAPID settings/)
})

t.test('classifyWebPushError', async (t) => {
  const status = (statusCode: number, headers: Record<string, string> = {}) => Object.assign(new Error('x'), { statusCode, headers, body: 'b' })
  t.match(classifyWebPushError(status(404)), { retryable: false, reason: 'subscription_gone' })
  t.match(classifyWebPushError(status(410)), { retryable: false, reason: 'subscription_gone' })
  t.match(classifyWebPushError(status(413)), { retryable: false, reason: 'payload_too_large' })
  t.match(classifyWebPushError(status(429, { 'retry-after': '30' })), { retryable: true, reason: 'rate_limited', retryAfterMs: 30000 })
  t.match(classifyWebPushError(status(503, { 'retry-after': '2' })), { retryable: true, reason: 'provider_unavailable', retryAfterMs: 2000 })
  t.match(classifyWebPushError(status(500)), { retryable: true, reason: 'provider_unavailable' })
  t.match(classifyWebPushError(status(403)), { retryable: false, reason: 'provider_rejected' }, 'a VAPID refusal will not get better')
  t.match(classifyWebPushError(status(400)), { retryable: false, reason: 'provider_rejected' })
  t.match(classifyWebPushError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), { retryable: true, reason: 'provider_unreachable' })
  t.match(classifyWebPushError(new Error('Socket timeout')), { retryable: true, reason: 'provider_unreachable' })
})

t.test('the provider against the push peer (in process, trusting its CA)', async (t) => {
  const peer = await startPushService()
  t.teardown(() => peer.close())
  const provider = createWebPushProvider({ publicKey: vapid.publicKey, privateKey: vapid.privateKey, subject, allowPrivate: true, ca: peer.ca })
  t.teardown(() => provider.close())
  const sub = peer.subscriber()
  const payload = { title: 'T', text: 'hello', notificationId: '00000000-0000-4000-8000-000000000000' }
  const r = await provider.send(sub, payload, { TTL: 60, urgency: 'low' })
  t.match(r.providerMessageId, new RegExp(`^${peer.origin}/message/`))
  t.match(peer.received[0], { payload, ttl: 60, urgency: 'low', vapid: { aud: peer.origin, sub: subject, publicKey: vapid.publicKey } })
  t.equal(peer.received[0]?.headers['content-encoding'], 'aes128gcm')

  peer.script(() => ({ status: 429, retryAfter: 5 }))
  t.match(await provider.send(sub, payload, { TTL: 60, urgency: 'normal' }).catch((e: unknown) => e), { retryable: true, reason: 'rate_limited', retryAfterMs: 5000 })
  peer.script(() => 410)
  t.match(await provider.send(sub, payload, { TTL: 60, urgency: 'normal' }).catch((e: unknown) => e), { retryable: false, reason: 'subscription_gone' })
  peer.script(undefined)

  const before = peer.received.length + peer.rejected.length
  const big = { ...payload, text: 'x'.repeat(MAX_PAYLOAD_BYTES) }
  t.match(await provider.send(sub, big, { TTL: 60, urgency: 'normal' }).catch((e: unknown) => e), { retryable: false, reason: 'payload_too_large' })
  t.equal(peer.received.length + peer.rejected.length, before, 'an oversize payload is not sent at all')

  const strict = createWebPushProvider({ publicKey: vapid.publicKey, privateKey: vapid.privateKey, subject, allowPrivate: false, ca: peer.ca })
  t.teardown(() => strict.close())
  t.match(await strict.send(sub, payload, { TTL: 60, urgency: 'normal' }).catch((e: unknown) => e), { retryable: false, reason: 'endpoint_not_allowed' })
  t.match(await strict.send(peer.subscriber({ host: 'localhost' }), payload, { TTL: 60, urgency: 'normal' }).catch((e: unknown) => e), { retryable: false, reason: 'endpoint_not_allowed' })
  t.equal(peer.received.length + peer.rejected.length, before, 'nothing reached the peer while private endpoints are refused')
})
