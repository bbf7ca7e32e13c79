import { createServer } from 'node:net'
import pg from 'pg'
import t from 'tap'
import twilio from 'twilio'
import { baseEnv, buildTestApp, client, createTestDatabase, waitFor } from '../helper.js'
import { startSmtp } from '../peers/smtp.js'
import { startTwilioApi, type Reply } from '../peers/twilio-api.js'

const accountSid = 'AC' + '0123456789abcdef'.repeat(2)
const authToken = 'sms-test-auth-token'
const from = '+15005550001'

const freePort = async () => await new Promise<number>((resolve, reject) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number }
    s.close(() => resolve(port))
  }).on('error', reject)
})

const peer = await startTwilioApi({ accountSid, authToken })
t.teardown(() => peer.close())
const smtp = await startSmtp()
t.teardown(smtp.close)
const dbUrl = await createTestDatabase(t)
const port = await freePort()
const callbackUrl = `http://127.0.0.1:${port}/webhooks/twilio/status`
const env = baseEnv(dbUrl, {
  TWILIO_ACCOUNT_SID: accountSid,
  TWILIO_AUTH_TOKEN: authToken,
  TWILIO_FROM: from,
  TWILIO_API_BASE_URL: peer.origin,
  TWILIO_STATUS_CALLBACK_URL: callbackUrl,
  SMTP_URL: smtp.url
})
const app = await buildTestApp(t, env)
await app.listen({ port, host: '127.0.0.1' })
const api = client(`http://127.0.0.1:${port}`)
const sql = new pg.Client({ connectionString: dbUrl })
await sql.connect()
t.teardown(() => sql.end())

let n = 0
/** Posts an SMS notification and waits until its delivery has left the queue for good (sent or failed). */
const sendSms = async (text: string, phone = '+15005550006') => {
  const res = await api.post('/notifications', { recipient: { id: `u-${++n}`, phone }, channels: ['sms'], content: { text } })
  if (res.status !== 202) throw new Error(JSON.stringify(res.body))
  return await waitFor(async () => {
    const r = await api.get(`/notifications/${res.body.id}`)
    return ['completed', 'failed'].includes(r.body.status) ? r.body : undefined
  }, { what: `notification ${text} to settle` })
}
const notification = async (id: string) => (await api.get(`/notifications/${id}`)).body
const attempts = async (deliveryId: string) =>
  (await sql.query('select attempt, outcome, reason, error, provider_message_id from delivery_attempts where delivery_id = $1 order by id', [deliveryId])).rows
/** Posts a callback as Twilio would, signed for the configured URL (or not), with the fields given. */
const postCallback = async (params: Record<string, string>, opts: { sign?: boolean, url?: string } = {}) => {
  const signature = opts.sign === false ? 'bm90LWEtc2lnbmF0dXJl' : twilio.getExpectedTwilioSignature(authToken, callbackUrl, params)
  const res = await fetch(opts.url ?? callbackUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    body: new URLSearchParams(params).toString()
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined }
}

t.test('a notification becomes an SMS at Twilio with To, From, Body and StatusCallback; the SID is stored', async (t) => {
  const before = peer.messages.length
  const done = await sendSms('Hello Ada')
  t.equal(done.status, 'completed')
  const [d] = done.deliveries
  t.match(d, { channel: 'sms', status: 'sent', attempts: 1 })
  const got = peer.messages.slice(before)
  t.equal(got.length, 1, 'one request reached Twilio')
  t.ok(got[0]?.authOk, 'Basic auth with the account SID and token')
  t.same(got[0]?.form, { To: '+15005550006', From: from, Body: 'Hello Ada', StatusCallback: callbackUrl })
  t.equal(d.providerMessageId, got[0]?.sid, 'the message SID is the providerMessageId')
  t.match(await attempts(d.id), [{ attempt: 1, outcome: 'sent', provider_message_id: got[0]?.sid }])
})

t.test('signed callbacks: delivered moves the delivery; a late sent and a repeat change nothing', async (t) => {
  const done = await sendSms('receipt please')
  const [d] = done.deliveries
  const cb = await peer.sendStatus(d.providerMessageId, 'delivered')
  t.equal(cb.status, 204, 'the webhook answers 204')
  const delivered = await waitFor(async () => {
    const r = await notification(done.id)
    return r.deliveries[0].status === 'delivered' ? r : undefined
  }, { what: 'the delivery to become delivered' })
  t.equal(delivered.status, 'completed', 'delivered counts as success')

  t.equal((await peer.sendStatus(d.providerMessageId, 'sent')).status, 204, 'a late sent is accepted')
  t.equal((await peer.sendStatus(d.providerMessageId, 'delivered')).status, 204, 'a repeat is accepted')
  t.equal((await peer.sendStatus(d.providerMessageId, 'undelivered', { errorCode: 30003 })).status, 204, 'an out-of-order undelivered is accepted')
  const after = await notification(done.id)
  t.equal(after.deliveries[0].status, 'delivered', 'delivered is never taken back')
  t.equal(after.deliveries[0].reason, null)
  t.equal(after.status, 'completed')
})

t.test('a bad signature gets 403 and changes nothing', async (t) => {
  const done = await sendSms('unsigned')
  const [d] = done.deliveries
  const cb = await peer.sendStatus(d.providerMessageId, 'delivered', { badSignature: true })
  t.equal(cb.status, 403)
  const none = await postCallback({ MessageSid: d.providerMessageId, MessageStatus: 'failed' }, { sign: false })
  t.equal(none.status, 403)
  t.equal(none.body.code, 'INVALID_TWILIO_SIGNATURE')
  const noHeader = await fetch(callbackUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `MessageSid=${d.providerMessageId}&MessageStatus=delivered` })
  t.equal(noHeader.status, 403, 'no X-Twilio-Signature at all')
  // Signed for another URL: the signature covers the URL Twilio was told to call.
  const other = twilio.getExpectedTwilioSignature(authToken, 'https://elsewhere.example/webhooks/twilio/status', { MessageSid: d.providerMessageId, MessageStatus: 'delivered' })
  const wrongUrl = await fetch(callbackUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': other }, body: `MessageSid=${d.providerMessageId}&MessageStatus=delivered` })
  t.equal(wrongUrl.status, 403, 'signed for another URL')
  const after = await notification(done.id)
  t.equal(after.deliveries[0].status, 'sent')
  t.same(await attempts(d.id), [{ attempt: 1, outcome: 'sent', reason: null, error: null, provider_message_id: d.providerMessageId }])
})

t.test('undelivered moves sent to failed with a reason; the notification then failed', async (t) => {
  const done = await sendSms('to a dead handset')
  const [d] = done.deliveries
  t.equal(done.status, 'completed', 'sent counted as success at first')
  t.equal((await peer.sendStatus(d.providerMessageId, 'undelivered', { errorCode: 30003 })).status, 204)
  const failed = await waitFor(async () => {
    const r = await notification(done.id)
    return r.status === 'failed' ? r : undefined
  }, { what: 'the notification to become failed' })
  t.match(failed.deliveries[0], { status: 'failed', reason: 'invalid_address' })
  t.match(await attempts(d.id), [{ outcome: 'sent' }, { attempt: 1, outcome: 'failed', reason: 'invalid_address', error: /undelivered.*30003/ }])

  const other = await sendSms('carrier filtered')
  await peer.sendStatus(other.deliveries[0].providerMessageId, 'failed', { errorCode: 30007 })
  const f2 = await waitFor(async () => {
    const r = await notification(other.id)
    return r.status === 'failed' ? r : undefined
  }, { what: 'the second notification to become failed' })
  t.match(f2.deliveries[0], { status: 'failed', reason: 'provider_rejected' })
  t.equal((await peer.sendStatus(other.deliveries[0].providerMessageId, 'delivered')).status, 204, 'a late delivered after failed is accepted')
  t.equal((await notification(other.id)).deliveries[0].status, 'failed', 'and ignored: a status never moves from a final one')
})

t.test('fallback sms then email: sent stops it; a later undelivered moves it on to email', async (t) => {
  const res = await api.post('/notifications', {
    recipient: { id: 'fallback-1', phone: '+15005550006', email: 'fb@example.test' },
    channels: ['sms', 'email'],
    strategy: 'fallback',
    content: { subject: 'Code', text: 'Your code is 1234' }
  })
  t.equal(res.status, 202)
  const first = await waitFor(async () => {
    const r = await notification(res.body.id)
    return r.status === 'completed' ? r : undefined
  }, { what: 'the sms to be sent' })
  t.match(first.deliveries, [{ channel: 'sms', status: 'sent' }, { channel: 'email', status: 'canceled', reason: 'fallback_not_needed' }])
  t.equal(smtp.mailsTo('fb@example.test').length, 0, 'no email while the sms counts as sent')

  t.equal((await peer.sendStatus(first.deliveries[0].providerMessageId, 'undelivered', { errorCode: 30005 })).status, 204)
  const moved = await waitFor(async () => {
    const r = await notification(res.body.id)
    return r.status === 'completed' && r.deliveries[1].status === 'sent' ? r : undefined
  }, { what: 'the fallback to move on to email' })
  t.match(moved.deliveries, [{ channel: 'sms', status: 'failed', reason: 'invalid_address' }, { channel: 'email', status: 'sent', reason: null }])
  t.equal(smtp.mailsTo('fb@example.test').length, 1, 'the email went out')
})

t.test('Twilio error 21211 fails for good in one attempt', async (t) => {
  const before = peer.messages.length
  peer.script(() => ({ status: 400, code: 21211 }))
  t.teardown(() => peer.script(undefined))
  const done = await sendSms('bad number', '+15005550001')
  t.equal(done.status, 'failed')
  t.match(done.deliveries[0], { status: 'failed', reason: 'invalid_address', attempts: 1, providerMessageId: null })
  t.equal(peer.messages.length - before, 1, 'Twilio was asked once')
  t.match(await attempts(done.deliveries[0].id), [{ attempt: 1, outcome: 'failed', reason: 'invalid_address', error: /21211/ }])
})

t.test('another 4xx (a refused sender) fails for good as provider_rejected', async (t) => {
  peer.script(() => ({ status: 400, code: 21606, message: "The 'From' phone number provided is not a valid message-capable Twilio phone number" }))
  t.teardown(() => peer.script(undefined))
  const done = await sendSms('refused sender')
  t.match(done.deliveries[0], { status: 'failed', reason: 'provider_rejected', attempts: 1 })
})

t.test('503 twice then 201: retried with backoff until sent, every attempt a row', async (t) => {
  const before = peer.messages.length
  let calls = 0
  peer.script((): Reply | undefined => (++calls <= 2 ? { status: 503 } : undefined))
  t.teardown(() => peer.script(undefined))
  const done = await sendSms('third time lucky')
  t.equal(done.status, 'completed')
  const [d] = done.deliveries
  t.match(d, { status: 'sent', attempts: 3 })
  const got = peer.messages.slice(before)
  t.same(got.map((m) => m.status), [503, 503, 201])
  t.equal(d.providerMessageId, got[2]?.sid)
  t.match(await attempts(d.id), [
    { attempt: 1, outcome: 'retry', reason: 'provider_unavailable', error: /503/ },
    { attempt: 2, outcome: 'retry', reason: 'provider_unavailable' },
    { attempt: 3, outcome: 'sent', provider_message_id: got[2]?.sid }
  ])
})

t.test('429 with Retry-After, and a dropped connection, are retried to sent', async (t) => {
  let calls = 0
  peer.script((): Reply | undefined => (++calls === 1 ? { status: 429, retryAfter: 1 } : calls === 2 ? { status: 201, destroy: true } : undefined))
  t.teardown(() => peer.script(undefined))
  const done = await sendSms('rate limited')
  const [d] = done.deliveries
  t.match(d, { status: 'sent', attempts: 3 })
  t.match(await attempts(d.id), [
    { outcome: 'retry', reason: 'rate_limited', error: /429/ },
    { outcome: 'retry', reason: 'provider_unreachable', error: /ECONNRESET/ },
    { outcome: 'sent' }
  ])
})

t.test('bad webhook bodies get clear answers', async (t) => {
  const missing = await postCallback({ MessageStatus: 'delivered' })
  t.equal(missing.status, 400)
  t.match(missing.body, { code: 'FST_ERR_VALIDATION', message: /MessageSid/ })
  const noStatus = await postCallback({ MessageSid: 'SM' + 'a'.repeat(32) })
  t.equal(noStatus.status, 400)
  t.match(noStatus.body.message, /MessageStatus/)
  const badSid = await postCallback({ MessageSid: 'nope', MessageStatus: 'delivered' })
  t.equal(badSid.status, 400)
  t.match(badSid.body.message, /MessageSid/)
  const unknown = await postCallback({ MessageSid: 'SM' + '0'.repeat(32), MessageStatus: 'delivered' })
  t.equal(unknown.status, 404)
  t.match(unknown.body, { code: 'UNKNOWN_MESSAGE_SID', message: /SM0{32}/ })
  const unsignedJunk = await postCallback({ hello: 'world' }, { sign: false })
  t.equal(unsignedJunk.status, 403, 'the signature is checked before the body')
  const json = await fetch(callbackUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"MessageSid":"x"}' })
  t.equal(json.status, 403, 'a JSON body is not signed form fields')
})

t.test('the webhook does not accept form bodies elsewhere: the API stays JSON', async (t) => {
  const res = await fetch(`http://127.0.0.1:${port}/notifications`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${env.BOOTSTRAP_API_KEY}` }, body: 'a=b'
  })
  t.equal(res.status, 415)
})

t.test('sms-service alone: the webhook validates against the public TWILIO_STATUS_CALLBACK_URL', async (t) => {
  const publicUrl = 'https://sms.example.test/hooks/webhooks/twilio/status?region=eu'
  const sms = await buildTestApp(t, { ...env, SERVICE_ROLE: 'sms-service', TWILIO_STATUS_CALLBACK_URL: publicUrl })
  const done = await sendSms('behind a proxy')
  const sid = done.deliveries[0].providerMessageId
  const params = { AccountSid: accountSid, MessageSid: sid, MessageStatus: 'delivered', To: '+15005550006', From: from }
  const post = (signature: string) => sms.inject({
    method: 'POST', url: '/webhooks/twilio/status', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, payload: new URLSearchParams(params).toString()
  })
  t.equal((await post(twilio.getExpectedTwilioSignature(authToken, callbackUrl, params))).statusCode, 403, 'signed for the local URL: refused')
  const ok = await post(twilio.getExpectedTwilioSignature(authToken, publicUrl, params))
  t.equal(ok.statusCode, 204)
  t.equal(ok.body, '')
  const r = await waitFor(async () => {
    const x = await notification(done.id)
    return x.deliveries[0].status === 'delivered' ? x : undefined
  }, { what: 'delivered through the sms-service' })
  t.equal(r.status, 'completed')
})
