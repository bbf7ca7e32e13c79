import t from 'tap'
import { buildTestApp, baseEnv, client, createTestDatabase, spawnRole, waitFor } from '../helper.js'
import { startSmtp } from '../peers/smtp.js'

const smtp = await startSmtp()
t.teardown(smtp.close)
const db = await createTestDatabase(t)
const app = await buildTestApp(t, baseEnv(db, { SMTP_URL: smtp.url, MAX_ATTEMPTS: '4' }))
await app.listen({ port: 0, host: '127.0.0.1' })
const api = client(`http://127.0.0.1:${(app.server.address() as { port: number }).port}`)

const send = async (email: string, extra: Record<string, unknown> = {}) => {
  const r = await api.post('/notifications', { recipient: { id: email, email }, channels: ['email'], content: { subject: 'S', text: 'T' }, ...extra })
  if (r.status !== 202) throw new Error(JSON.stringify(r.body))
  return r.body.id as string
}
const final = async (id: string) => await waitFor(async () => {
  const r = await api.get(`/notifications/${id}`)
  return ['completed', 'failed', 'canceled'].includes(r.body.status) ? r.body : undefined
}, { what: `notification ${id} to end` })
const attemptRows = async (deliveryId: string) =>
  (await app.pool.query('select attempt, outcome, reason from delivery_attempts where delivery_id = $1 order by attempt', [deliveryId])).rows

t.test('SMTP 550 on the recipient: failed for good after one attempt', async (t) => {
  smtp.script((address) => address === 'gone@example.test' ? { code: 550, message: 'No such user' } : undefined)
  const n = await final(await send('gone@example.test'))
  t.equal(n.status, 'failed')
  t.match(n.deliveries[0], { status: 'failed', reason: 'provider_rejected', attempts: 1 })
  t.same(await attemptRows(n.deliveries[0].id), [{ attempt: 1, outcome: 'failed', reason: 'provider_rejected' }])
  t.equal(smtp.mailsTo('gone@example.test').length, 0)
})

t.test('SMTP 451 twice, then accepted: sent after three attempts, each stored', async (t) => {
  smtp.script((address, seen) => address === 'busy@example.test' && seen <= 2 ? { code: 451, message: 'Try again later' } : undefined)
  const n = await final(await send('busy@example.test'))
  t.equal(n.status, 'completed')
  t.match(n.deliveries[0], { status: 'sent', attempts: 3 })
  t.same(await attemptRows(n.deliveries[0].id), [
    { attempt: 1, outcome: 'retry', reason: 'provider_deferred' },
    { attempt: 2, outcome: 'retry', reason: 'provider_deferred' },
    { attempt: 3, outcome: 'sent', reason: null }
  ])
  t.equal(smtp.mailsTo('busy@example.test').length, 1, 'one message in the end')
})

t.test('4xx on every attempt: retries_exhausted after MAX_ATTEMPTS', async (t) => {
  smtp.script((address) => address === 'full@example.test' ? { code: 452, message: 'Mailbox full' } : undefined)
  const n = await final(await send('full@example.test'))
  t.match(n.deliveries[0], { status: 'failed', reason: 'retries_exhausted', attempts: 4 })
  t.equal((await attemptRows(n.deliveries[0].id)).length, 4)
})

t.test('a worker killed in the middle of a send: the delivery is retried, not forgotten', async (t) => {
  smtp.script(() => undefined)
  const env = baseEnv(db, { SMTP_URL: smtp.url, JOB_LOCK_MS: '1000' })
  const apiRole = await spawnRole(t, 'notification-service', env)
  await spawnRole(t, 'channel-orchestrator', env)
  const doomed = await spawnRole(t, 'email-service', env)
  const remote = client(apiRole.url)
  smtp.hold(4000)
  const r = await remote.post('/notifications', { recipient: { id: 'crash', email: 'crash@example.test' }, channels: ['email'], content: { text: 'survives' } })
  t.equal(r.status, 202)
  await waitFor(async () => (await remote.get(`/notifications/${r.body.id}`)).body.deliveries[0].status === 'sending', { what: 'the send to start' })
  t.equal(await doomed.kill('SIGKILL'), null, 'the worker died by SIGKILL')
  smtp.hold(0)
  await spawnRole(t, 'email-service', env)
  const n = await waitFor(async () => {
    const b = (await remote.get(`/notifications/${r.body.id}`)).body
    return b.status === 'completed' ? b : undefined
  }, { timeoutMs: 30000, what: 'another worker to finish the delivery' })
  t.equal(n.deliveries[0].status, 'sent')
  t.ok(n.deliveries[0].attempts >= 2, `claimed again after the crash (attempts: ${n.deliveries[0].attempts})`)
  t.ok(smtp.mailsTo('crash@example.test').length >= 1, 'the email arrived (at least once)')
  const rows = (await app.pool.query('select attempt, outcome, reason from delivery_attempts where delivery_id = $1 order by attempt', [n.deliveries[0].id])).rows
  t.match(rows[0], { attempt: 1, outcome: 'retry', reason: 'worker_lost' }, 'the lost attempt is stored')
  t.match(rows.at(-1), { outcome: 'sent' })
})
