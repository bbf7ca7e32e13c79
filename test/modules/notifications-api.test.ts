import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { API_KEY, ROOT, auth, baseEnv, buildTestApp, createTestDatabase, waitFor } from '../helper.js'
import { startSmtp } from '../peers/smtp.js'

const run = promisify(execFile)
const smtp = await startSmtp()
t.teardown(smtp.close)
const dbUrl = await createTestDatabase(t)
const app = await buildTestApp(t, baseEnv(dbUrl, { SMTP_URL: smtp.url, BODY_LIMIT_BYTES: '4096' }))

const valid = (over: Record<string, unknown> = {}) => ({
  recipient: { id: 'u-1', email: 'u1@example.test' },
  channels: ['email'],
  content: { subject: 'S', text: 'T' },
  ...over
})
const post = (body: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/notifications', headers: { ...auth(), ...headers }, payload: body as object })
const get = (url: string, key = API_KEY) => app.inject({ method: 'GET', url, headers: auth(key) })

t.test('without a valid API key: 401', async (t) => {
  const none = await app.inject({ method: 'POST', url: '/notifications', payload: valid() })
  t.equal(none.statusCode, 401)
  t.equal(none.json().code, 'UNAUTHORIZED')
  const wrong = await post(valid(), { authorization: 'Bearer nope-nope-nope' })
  t.equal(wrong.statusCode, 401)
})

t.test('bad input: each gets its 4xx naming the field, never a 5xx', async (t) => {
  const cases: Array<[string, unknown, number, RegExp, Record<string, string>?]> = [
    ['missing recipient', { channels: ['email'], content: { text: 'x' } }, 400, /recipient/],
    ['missing recipient.id', valid({ recipient: { email: 'a@b.test' } }), 400, /recipient.*id|id/],
    ['empty recipient.id', valid({ recipient: { id: '' } }), 400, /recipient\/id/],
    ['missing channels', { recipient: { id: 'x' }, content: { text: 'x' } }, 400, /channels/],
    ['missing content.text', valid({ content: { subject: 'x' } }), 400, /text/],
    ['channels not an array', valid({ channels: 'email' }), 400, /channels/],
    ['recipient.id a number', valid({ recipient: { id: 42 } }), 400, /recipient\/id/],
    ['content.text a number', valid({ content: { text: 5 } }), 400, /content\/text/],
    ['unknown channel', valid({ channels: ['fax'] }), 400, /channels\/0/],
    ['duplicate channels', valid({ channels: ['email', 'email'] }), 400, /channels/],
    ['no channels', valid({ channels: [] }), 400, /channels/],
    ['bad email', valid({ recipient: { id: 'x', email: 'not-an-email' } }), 400, /recipient\/email/],
    ['bad phone', valid({ recipient: { id: 'x', phone: '555-1234' } }), 400, /recipient\/phone/],
    ['unknown strategy', valid({ strategy: 'some' }), 400, /strategy/],
    ['bad sendAt', valid({ sendAt: 'tomorrow' }), 400, /sendAt/],
    ['unknown field', valid({ colour: 'red' }), 400, /colour|additional/],
    ['bad url', valid({ content: { text: 'x', url: 'not a url' } }), 400, /content\/url/],
    ['idempotency key too long', valid(), 400, /idempotency-key/, { 'idempotency-key': 'k'.repeat(256) }]
  ]
  for (const [name, body, status, field, headers] of cases) {
    const res = await post(body, headers)
    t.equal(res.statusCode, status, `${name}: ${res.body}`)
    t.match(res.json().message, field, `${name}: the message names the field`)
    t.equal(res.json().code, 'FST_ERR_VALIDATION', name)
  }

  const big = await post(valid({ content: { text: 'x'.repeat(5000) } }))
  t.equal(big.statusCode, 413, 'oversized body')
  t.match(big.json().message, /body/i)

  const notJson = await app.inject({ method: 'POST', url: '/notifications', headers: { ...auth(), 'content-type': 'application/json' }, payload: '{"recipient": ' })
  t.equal(notJson.statusCode, 400, 'malformed JSON')
  t.match(notJson.json().message, /JSON/i)

  const text = await app.inject({ method: 'POST', url: '/notifications', headers: { ...auth(), 'content-type': 'text/plain' }, payload: 'hello' })
  t.equal(text.statusCode, 415, 'not JSON at all')
  t.match(text.json().message, /content-type/i)

  const r = await app.pool.query('select count(*)::int as n from notifications')
  t.equal(r.rows[0].n, 0, 'nothing was stored for any bad request')
})

t.test('idempotency: same key and body → one email, same response; other body → 422', async (t) => {
  const body = valid({ recipient: { id: 'idem', email: 'idem@example.test' } })
  const first = await post(body, { 'idempotency-key': 'order-7' })
  t.equal(first.statusCode, 202)
  const again = await post(body, { 'idempotency-key': 'order-7' })
  t.equal(again.statusCode, 202)
  t.same(again.json(), first.json(), 'the first response, again')
  const other = await post({ ...body, content: { text: 'changed' } }, { 'idempotency-key': 'order-7' })
  t.equal(other.statusCode, 422)
  t.equal(other.json().code, 'IDEMPOTENCY_KEY_REUSED')

  await waitFor(async () => (await get(`/notifications/${first.json().id}`)).json().status === 'completed', { what: 'completion' })
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(smtp.mailsTo('idem@example.test').length, 1, 'one email sent')
  const r = await app.pool.query("select count(*)::int as n from notifications where recipient_id = 'idem'")
  t.equal(r.rows[0].n, 1, 'one notification stored')
})

t.test('concurrent requests, written together: each stored with its own deliveries, a recipient once, given addresses kept', async (t) => {
  await app.inject({ method: 'PUT', url: '/recipients/busy-1', headers: auth(), payload: { phone: '+15005550006', locale: 'de-DE' } })
  const bodies = Array.from({ length: 40 }, (_, i) => valid({
    recipient: i % 4 === 0 ? { id: 'busy-1', email: `busy1-${i}@example.test` } : { id: `busy-${Math.max(1, i % 4)}` },
    channels: i % 2 === 0 ? ['email', 'inapp'] : ['inapp'],
    content: { text: `n${i}` }
  }))
  const answers = await Promise.all(bodies.map(async (b) => await post(b)))
  t.same(answers.map((a) => a.statusCode), bodies.map(() => 202), 'every one accepted')
  const ids = answers.map((a) => a.json().id)
  t.equal(new Set(ids).size, 40, 'each its own id')
  const stored = await app.pool.query<{ id: string, text: string, channels: string[] }>(`
    select n.id, n.content->>'text' as text, array_agg(d.channel order by d.position) as channels
    from notifications n join deliveries d on d.notification_id = n.id where n.id = any($1::uuid[]) group by n.id`, [ids])
  const byId = new Map(stored.rows.map((r) => [r.id, r]))
  t.same(ids.map((id) => byId.get(id)?.text), bodies.map((b) => b.content.text), 'each stored with its own content')
  t.same(ids.map((id) => byId.get(id)?.channels), bodies.map((b) => b.channels), 'and its own deliveries, in order')
  const outbox = await app.pool.query("select count(*)::int as n from notifications where id = any($1::uuid[]) and status in ('accepted', 'processing', 'completed')", [ids])
  t.equal(outbox.rows[0].n, 40)
  const people = await app.pool.query("select id, email, phone, locale from recipients where id like 'busy-%' order by id")
  t.same(people.rows.map((r) => r.id), ['busy-1', 'busy-2', 'busy-3'], 'a recipient once however many requests named it')
  t.match(people.rows[0], { id: 'busy-1', phone: '+15005550006', locale: 'de-DE' }, 'addresses not given are kept, by requests with and without addresses')
  t.match(people.rows[0].email, /^busy1-\d+@example\.test$/, 'the given email stored')
  t.match(people.rows[1], { id: 'busy-2', email: null, phone: null })
})

t.test('idempotency: a request while the first is being accepted gets 409', async (t) => {
  // Hold the key's advisory lock as an in-flight request would.
  const c = await app.pool.connect()
  try {
    await c.query('begin')
    const tenant = await c.query("select id from tenants where name = 'default'")
    await c.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [tenant.rows[0].id + ':' + 'busy-key'])
    const res = await post(valid(), { 'idempotency-key': 'busy-key' })
    t.equal(res.statusCode, 409)
    t.equal(res.json().code, 'IDEMPOTENCY_IN_FLIGHT')
  } finally {
    await c.query('rollback')
    c.release()
  }
  const after = await post(valid(), { 'idempotency-key': 'busy-key' })
  t.equal(after.statusCode, 202, 'accepted once the first is gone')
})

t.test("another tenant's key cannot read or cancel a notification (404)", async (t) => {
  const { stdout } = await run(process.execPath, ['dist/cli/create-api-key.js', '--tenant', 'acme'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: dbUrl } })
  const acmeKey = stdout.trim()
  t.match(acmeKey, /^ns_[A-Za-z0-9_-]{40,}$/, 'the CLI prints a new key')
  const stored = await app.pool.query('select key_hash from api_keys where key_hash = encode(sha256($1::bytea), \'hex\')', [acmeKey])
  t.equal(stored.rowCount, 1, 'only its hash is stored')

  const mine = await post(valid({ sendAt: new Date(Date.now() + 60_000).toISOString() }))
  const id = mine.json().id
  t.equal((await get(`/notifications/${id}`, acmeKey)).statusCode, 404)
  const cancel = await app.inject({ method: 'POST', url: `/notifications/${id}/cancel`, headers: auth(acmeKey) })
  t.equal(cancel.statusCode, 404)
  t.equal((await get(`/notifications/${id}`)).json().status, 'scheduled', 'untouched for its owner')
  t.equal((await get('/recipients/u-1', acmeKey)).statusCode, 404, "nor another tenant's recipient")
  t.equal((await get('/notifications/not-a-uuid')).statusCode, 404, 'an id that is no uuid is unknown too')
})

t.test('recipients and preferences', async (t) => {
  const put = await app.inject({ method: 'PUT', url: '/recipients/r-9', headers: auth(), payload: { email: 'r9@example.test', locale: 'en-GB' } })
  t.equal(put.statusCode, 200)
  t.match(put.json(), { id: 'r-9', email: 'r9@example.test', locale: 'en-GB', phone: null })
  const bad = await app.inject({ method: 'PUT', url: '/recipients/r-9', headers: auth(), payload: { phone: '12' } })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().message, /phone/)
  await app.inject({ method: 'PUT', url: '/recipients/r-9/preferences', headers: auth(), payload: { channels: { sms: false } } })
  const prefs = await app.inject({ method: 'PUT', url: '/recipients/r-9/preferences', headers: auth(), payload: { categories: { marketing: { email: false } } } })
  t.same(prefs.json(), { channels: { sms: false }, categories: { marketing: { email: false } } }, 'a second PUT merges into the first')
  const badPrefs = await app.inject({ method: 'PUT', url: '/recipients/r-9/preferences', headers: auth(), payload: { channels: { fax: false } } })
  t.equal(badPrefs.statusCode, 400)
  t.same((await get('/recipients/r-9')).json().preferences, prefs.json())
  t.equal((await get('/recipients/nobody')).statusCode, 404)
})

t.test('health, ready and metrics need no key', async (t) => {
  t.same((await app.inject('/health')).json(), { status: 'ok' })
  const ready = await app.inject('/ready')
  t.equal(ready.statusCode, 200)
  const metrics = await app.inject('/metrics')
  t.equal(metrics.statusCode, 200)
  t.match(metrics.body, /http_requests_total\{route="\/notifications",method="POST",status="202"/)
  t.match(metrics.body, /queue_depth\{queue="email"/)
  t.match(metrics.body, /deliveries_total\{channel="email",status="sent"/)
  t.match(metrics.body, /provider_send_duration_seconds_bucket\{[^}]*channel="email"/)
})
