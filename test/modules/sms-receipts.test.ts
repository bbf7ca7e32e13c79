import pg from 'pg'
import t from 'tap'
import twilio from 'twilio'
import { baseEnv, buildTestApp, client, createTestDatabase, freePort } from '../helper.js'

// Twilio can call back before the sms worker has stored the SID it was given (the worker records it
// after Twilio's answer arrives). The webhook must not answer 404 then: Twilio does not retry one.
t.test('a receipt that arrives before the SID is stored is applied once the SID is there', async (t) => {
  const authToken = 'receipt-race-token'
  const db = await createTestDatabase(t)
  const port = await freePort()
  const callbackUrl = `http://127.0.0.1:${port}/webhooks/twilio/status`
  const app = await buildTestApp(t, baseEnv(db, {
    TWILIO_ACCOUNT_SID: 'AC' + 'b2'.repeat(16),
    TWILIO_AUTH_TOKEN: authToken,
    TWILIO_FROM: '+15005550006',
    TWILIO_API_BASE_URL: 'http://127.0.0.1:1',
    TWILIO_STATUS_CALLBACK_URL: callbackUrl
  }))
  await app.listen({ port, host: '127.0.0.1' })
  const api = client(`http://127.0.0.1:${port}`)
  const sql = new pg.Client({ connectionString: db })
  await sql.connect()
  t.teardown(() => sql.end())

  // A delivery that is being sent right now: the worker holds it, Twilio has answered, nothing is stored yet.
  const r = await api.post('/notifications', { recipient: { id: 'race', phone: '+15005550010' }, channels: ['sms'], content: { text: 'quick' }, sendAt: '2099-01-01T00:00:00Z' })
  const deliveryId = r.body.deliveries[0].id
  await sql.query("update deliveries set status = 'sending', attempts = 1 where id = $1", [deliveryId])
  const sid = 'SM' + 'c3'.repeat(16)
  const params = { MessageSid: sid, MessageStatus: 'delivered', AccountSid: 'AC' + 'b2'.repeat(16) }
  const callback = fetch(callbackUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, callbackUrl, params) },
    body: new URLSearchParams(params).toString()
  })
  // The worker stores Twilio's answer a moment later, as its record() does.
  await new Promise((resolve) => setTimeout(resolve, 400))
  await sql.query("update deliveries set status = 'sent', provider_message_id = $2 where id = $1", [deliveryId, sid])

  const answer = await callback
  t.equal(answer.status, 204, 'not 404: the webhook looked again')
  const d = (await sql.query('select status from deliveries where id = $1', [deliveryId])).rows[0]
  t.equal(d.status, 'delivered')

  const unknown = { MessageSid: 'SM' + 'd4'.repeat(16), MessageStatus: 'delivered' }
  const late = await fetch(callbackUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, callbackUrl, unknown) },
    body: new URLSearchParams(unknown).toString()
  })
  t.equal(late.status, 404, 'a SID that never appears is still unknown, after the short wait')
})
