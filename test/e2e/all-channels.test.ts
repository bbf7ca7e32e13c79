import t from 'tap'
import webPush from 'web-push'
import { baseEnv, client, createTestDatabase, spawnRole, waitFor } from '../helper.js'
import { startPushService } from '../peers/push-service.js'
import { startSmtp } from '../peers/smtp.js'
import { startTwilioApi } from '../peers/twilio-api.js'

// The six roles as six processes, each channel talking to its real peer on loopback.
const accountSid = 'AC' + 'a1'.repeat(16)
const authToken = 'twilio-auth-token-for-tests'
const smtp = await startSmtp()
const twilio = await startTwilioApi({ accountSid, authToken })
const push = await startPushService()
t.teardown(async () => { await smtp.close(); await twilio.close(); await push.close() })
const db = await createTestDatabase(t)
const vapid = webPush.generateVAPIDKeys()
const smsPort = 20000 + Math.floor(Math.random() * 20000)
const env = baseEnv(db, {
  SMTP_URL: smtp.url,
  TWILIO_ACCOUNT_SID: accountSid,
  TWILIO_AUTH_TOKEN: authToken,
  TWILIO_FROM: '+15005550006',
  TWILIO_API_BASE_URL: twilio.origin,
  TWILIO_STATUS_CALLBACK_URL: `http://127.0.0.1:${smsPort}/webhooks/twilio/status`,
  VAPID_PUBLIC_KEY: vapid.publicKey,
  VAPID_PRIVATE_KEY: vapid.privateKey,
  VAPID_SUBJECT: 'mailto:ops@example.test',
  PUSH_ALLOW_PRIVATE_ENDPOINTS: 'true',
  NODE_EXTRA_CA_CERTS: push.caPath
})
const [apiRole, , , , inappRole] = await Promise.all([
  spawnRole(t, 'notification-service', env),
  spawnRole(t, 'channel-orchestrator', env),
  spawnRole(t, 'email-service', env),
  spawnRole(t, 'sms-service', { ...env, PORT: String(smsPort) }),
  spawnRole(t, 'inapp-service', env),
  spawnRole(t, 'push-service', env)
])
const api = client(apiRole!.url)
const inboxApi = client(inappRole!.url) // the inbox is served by the inapp-service
const settled = async (id: string, done: (n: { status: string, deliveries: Array<{ channel: string, status: string }> }) => boolean) =>
  await waitFor(async () => {
    const n = (await api.get(`/notifications/${id}`)).body
    return done(n) ? n : undefined
  }, { timeoutMs: 30000, what: `notification ${id}` })
const of = (n: { deliveries: Array<Record<string, unknown>> }, channel: string) => n.deliveries.find((d) => d.channel === channel)

t.test('strategy all: one notification reaches the SMTP server, the Twilio API, the push service and the inbox', async (t) => {
  const device = push.subscriber({ id: 'lin-phone' })
  t.equal((await api.post('/recipients/lin/push-subscriptions', device)).status, 201)
  const res = await api.post('/notifications', {
    recipient: { id: 'lin', email: 'lin@example.test', phone: '+15005550001' },
    channels: ['email', 'sms', 'push', 'inapp'],
    content: { subject: 'Your order shipped', title: 'Shipped', text: 'Order 7 is on its way', url: 'https://shop.example.test/orders/7', data: { orderId: 7 } }
  })
  t.equal(res.status, 202, JSON.stringify(res.body))
  t.equal(res.body.deliveries.length, 4)
  const n = await settled(res.body.id, (n) => n.status === 'completed')
  for (const channel of ['email', 'sms', 'push', 'inapp']) t.equal(of(n, channel)?.status, 'sent', `${channel} sent`)

  const [mail] = smtp.mailsTo('lin@example.test')
  t.equal(mail?.parsed.subject, 'Your order shipped')
  t.equal(mail?.parsed.text?.trim(), 'Order 7 is on its way')

  const sms = twilio.messages.find((m) => m.form.To === '+15005550001')
  t.match(sms?.form, { From: '+15005550006', Body: 'Order 7 is on its way' }, 'the SMS reached the Twilio API')
  t.match(of(n, 'sms')?.providerMessageId, /^SM[0-9a-f]{32}$/, 'the Twilio SID is stored')

  const received = push.received.find((m) => m.id === 'lin-phone')
  t.match(received?.payload, { title: 'Shipped', text: 'Order 7 is on its way', url: 'https://shop.example.test/orders/7', data: { orderId: 7 }, notificationId: res.body.id }, 'the push service decrypted the payload')

  const inbox = await inboxApi.get('/inbox/lin/messages')
  t.equal(inbox.status, 200)
  t.match(inbox.body.items, [{ notificationId: res.body.id, title: 'Shipped', text: 'Order 7 is on its way' }], 'the message is in the inbox')
  t.same((await inboxApi.get('/inbox/lin/unread-count')).body, { count: 1 })

  // The delivery receipt comes back through the sms-service's webhook.
  const callback = await twilio.sendStatus(of(n, 'sms')!.providerMessageId as string, 'delivered')
  t.equal(callback.status, 204)
  await settled(res.body.id, (n) => of(n, 'sms')?.status === 'delivered')
  t.pass('sms delivered after the signed receipt')
})

t.test('strategy fallback over push, sms, email: a 410 moves on to SMS; SMS accepted stops there', async (t) => {
  const device = push.subscriber({ id: 'gone-phone' })
  t.equal((await api.post('/recipients/max/push-subscriptions', device)).status, 201)
  push.script((msg) => msg.id === 'gone-phone' ? 410 : undefined)
  const res = await api.post('/notifications', {
    recipient: { id: 'max', email: 'max@example.test', phone: '+15005550002' },
    channels: ['push', 'sms', 'email'],
    strategy: 'fallback',
    content: { title: 'Code', text: 'Your code is 4711' }
  })
  t.equal(res.status, 202)
  const n = await settled(res.body.id, (n) => n.status === 'completed')
  t.match(of(n, 'push'), { status: 'failed', reason: 'subscription_gone', attempts: 1 })
  t.match(of(n, 'sms'), { status: 'sent' })
  t.match(of(n, 'email'), { status: 'canceled', attempts: 0 }, 'email is not needed')
  t.ok(twilio.messages.some((m) => m.form.To === '+15005550002' && m.form.Body === 'Your code is 4711'), 'the SMS went out')
  t.equal(smtp.mailsTo('max@example.test').length, 0, 'no email')
  t.same((await api.get('/recipients/max')).body.pushSubscriptions, [], 'the gone subscription was deleted')
  push.script(undefined)
})
