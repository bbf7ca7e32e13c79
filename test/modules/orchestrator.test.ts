import t from 'tap'
import { buildTestApp, baseEnv, client, createTestDatabase, waitFor } from '../helper.js'
import { startSmtp } from '../peers/smtp.js'

const smtp = await startSmtp()
t.teardown(smtp.close)
const db = await createTestDatabase(t)
// Single-process mode with email only: sms and push have no settings, so they fail with channel_not_configured.
const app = await buildTestApp(t, baseEnv(db, { SMTP_URL: smtp.url }))
await app.listen({ port: 0, host: '127.0.0.1' })
const api = client(`http://127.0.0.1:${(app.server.address() as { port: number }).port}`)

const post = async (body: Record<string, unknown>) => {
  const r = await api.post('/notifications', { content: { subject: 'S', text: 'T' }, ...body })
  if (r.status !== 202) throw new Error(`${r.status} ${JSON.stringify(r.body)}`)
  return r.body
}
const get = async (id: string) => (await api.get(`/notifications/${id}`)).body
const final = async (id: string) => await waitFor(async () => {
  const n = await get(id)
  return ['completed', 'failed', 'canceled'].includes(n.status) ? n : undefined
}, { what: `notification ${id} to end` })
const byChannel = (n: { deliveries: Array<{ channel: string }> }, channel: string) => n.deliveries.find((d) => d.channel === channel) as Record<string, unknown>
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

t.test('preferences: a channel or a category opted out is skipped with reason preference', async (t) => {
  t.equal((await api.put('/recipients/pref/preferences', { channels: { sms: false }, categories: { marketing: { email: false } } })).status, 200)
  const marketing = await final((await post({ recipient: { id: 'pref', email: 'pref@example.test' }, channels: ['email'], category: 'marketing' })).id)
  t.equal(marketing.status, 'failed', 'nothing succeeded')
  t.match(byChannel(marketing, 'email'), { status: 'skipped', reason: 'preference', attempts: 0 })
  t.equal(smtp.mailsTo('pref@example.test').length, 0, 'no email for the opted-out category')

  const account = await final((await post({ recipient: { id: 'pref' }, channels: ['email', 'sms'], category: 'account' })).id)
  t.match(byChannel(account, 'email'), { status: 'sent' }, 'another category still goes out')
  t.match(byChannel(account, 'sms'), { status: 'skipped', reason: 'preference' }, 'the channel opt-out holds for every category')
  t.equal(account.status, 'completed')
})

t.test('a recipient without an address for the channel: skipped with reason no_address', async (t) => {
  const n = await final((await post({ recipient: { id: 'nobody' }, channels: ['email', 'sms', 'push'] })).id)
  for (const channel of ['email', 'sms', 'push']) t.match(byChannel(n, channel), { status: 'skipped', reason: 'no_address' }, channel)
  t.equal(n.status, 'failed')
})

t.test('fallback: the next channel waits until the first ends without success', async (t) => {
  smtp.script((address) => address === 'fb@example.test' ? { code: 550, message: 'No such user', delayMs: 1500 } : undefined)
  const accepted = await post({ recipient: { id: 'fb', email: 'fb@example.test', phone: '+15005550006' }, channels: ['email', 'sms'], strategy: 'fallback' })
  t.match(accepted.deliveries, [{ channel: 'email', status: 'queued' }, { channel: 'sms', status: 'pending' }])
  await waitFor(async () => byChannel(await get(accepted.id), 'email').status === 'sending', { what: 'email in flight' })
  t.equal(byChannel(await get(accepted.id), 'sms').status, 'pending', 'sms waits while email is in flight')
  const n = await final(accepted.id)
  t.match(byChannel(n, 'email'), { status: 'failed', reason: 'provider_rejected' })
  t.match(byChannel(n, 'sms'), { status: 'failed', reason: 'channel_not_configured', attempts: 1 }, 'sms was tried after email failed')
})

t.test('fallback: a skipped channel moves on; a success stops there and cancels the rest', async (t) => {
  const skipped = await final((await post({ recipient: { id: 'fb2', email: 'fb2@example.test' }, channels: ['sms', 'email'], strategy: 'fallback' })).id)
  t.match(byChannel(skipped, 'sms'), { status: 'skipped', reason: 'no_address' })
  t.match(byChannel(skipped, 'email'), { status: 'sent' })
  t.equal(skipped.status, 'completed')

  const first = await final((await post({ recipient: { id: 'fb3', email: 'fb3@example.test', phone: '+15005550006' }, channels: ['email', 'sms'], strategy: 'fallback' })).id)
  t.match(byChannel(first, 'email'), { status: 'sent' })
  t.match(byChannel(first, 'sms'), { status: 'canceled', attempts: 0 }, 'sms never tried')
  t.equal(first.status, 'completed')
})

t.test('strategy all: every channel at once, the notification completes when one succeeds', async (t) => {
  const n = await final((await post({ recipient: { id: 'all1', email: 'all1@example.test', phone: '+15005550006' }, channels: ['sms', 'email'] })).id)
  t.match(byChannel(n, 'email'), { status: 'sent' })
  t.match(byChannel(n, 'sms'), { status: 'failed', reason: 'channel_not_configured' })
  t.equal(n.status, 'completed')
})

t.test('sendAt in the future: nothing before it, sent after it', async (t) => {
  const sendAt = new Date(Date.now() + 2500)
  const accepted = await post({ recipient: { id: 'later', email: 'later@example.test' }, channels: ['email'], sendAt: sendAt.toISOString() })
  t.equal(accepted.status, 'scheduled')
  t.match(accepted.deliveries, [{ status: 'pending' }])
  await sleep(1000)
  t.equal(smtp.mailsTo('later@example.test').length, 0, 'nothing sent before sendAt')
  t.equal((await get(accepted.id)).status, 'scheduled')
  const n = await final(accepted.id)
  t.equal(n.status, 'completed')
  const [mail] = smtp.mailsTo('later@example.test')
  t.ok(mail, 'sent after sendAt')
  t.ok(mail!.parsed.date!.getTime() >= sendAt.getTime() - 1000, 'not before its time (to the second of the Date header)')
  t.equal(new Date(n.sendAt).toISOString(), sendAt.toISOString(), 'sendAt is reported')
})

t.test('cancel before sendAt: canceled, nothing sent; a second cancel has nothing left (409)', async (t) => {
  const sendAt = new Date(Date.now() + 1500)
  const accepted = await post({ recipient: { id: 'never', email: 'never@example.test' }, channels: ['email', 'inapp'], sendAt: sendAt.toISOString() })
  const canceled = await api.post(`/notifications/${accepted.id}/cancel`)
  t.equal(canceled.status, 200)
  t.equal(canceled.body.status, 'canceled')
  t.same(canceled.body.deliveries.map((d: { status: string }) => d.status), ['canceled', 'canceled'])
  const again = await api.post(`/notifications/${accepted.id}/cancel`)
  t.equal(again.status, 409)
  t.equal(again.body.code, 'NOTHING_TO_CANCEL')
  await sleep(sendAt.getTime() - Date.now() + 1500)
  t.equal(smtp.mailsTo('never@example.test').length, 0, 'nothing sent after sendAt passed')
  t.equal((await get(accepted.id)).status, 'canceled')
  const unknown = await api.post('/notifications/00000000-0000-4000-8000-000000000000/cancel')
  t.equal(unknown.status, 404)
})
