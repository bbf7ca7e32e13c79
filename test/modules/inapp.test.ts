import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { createDb } from '../../src/db/client.js'
import { createAuth } from '../../src/modules/auth/index.js'
import { createInboxRepository } from '../../src/modules/inapp/repository.js'
import { createInboxTokens, createSecretSource } from '../../src/modules/inapp/tokens.js'
import { API_KEY, auth, baseEnv, buildTestApp, createTestDatabase, waitFor } from '../helper.js'

const dbUrl = await createTestDatabase(t)
const app = await buildTestApp(t, baseEnv(dbUrl))

const inject = (method: 'GET' | 'POST', url: string, headers: Record<string, string> = auth()) =>
  app.inject({ method, url, headers })
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** Posts an in-app notification and waits until its delivery is sent; returns the message id. */
async function notify (recipientId: string, text: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await app.inject({
    method: 'POST', url: '/notifications', headers: auth(),
    payload: { recipient: { id: recipientId }, channels: ['inapp'], content: { text, ...extra } }
  })
  if (res.statusCode !== 202) throw new Error(res.body)
  const id = res.json().id as string
  return await waitFor(async () => {
    const n = (await inject('GET', `/notifications/${id}`)).json()
    return n.deliveries[0]?.status === 'sent' ? n.deliveries[0].providerMessageId as string : undefined
  }, { what: `the in-app delivery of "${text}" to be sent` })
}
const tokenFor = async (recipientId: string) => {
  const res = await inject('POST', `/recipients/${recipientId}/inbox-token`)
  t.equal(res.statusCode, 200, res.body)
  return res.json() as { token: string, expiresAt: string }
}
const count = async (recipientId: string, headers = auth()) => (await inject('GET', `/inbox/${recipientId}/unread-count`, headers)).json().count as number

t.test('a notification lands in the inbox; read, unread, archive and read-all move the unread count', async (t) => {
  t.equal(await count('ada'), 0, 'an inbox nobody wrote to is empty')
  const first = await notify('ada', 'Hello Ada', { title: 'Welcome', url: 'https://example.com/welcome', data: { orderId: 7 } })
  const list = (await inject('GET', '/inbox/ada/messages')).json()
  t.equal(list.items.length, 1)
  t.match(list.items[0], { id: first, title: 'Welcome', text: 'Hello Ada', url: 'https://example.com/welcome', data: { orderId: 7 }, readAt: null, archivedAt: null })
  t.ok(Date.parse(list.items[0].createdAt), 'createdAt is a time')
  t.equal(list.nextCursor, null)
  t.equal(await count('ada'), 1, 'the message raised the unread count')

  const read = await inject('POST', `/inbox/ada/messages/${first}/read`)
  t.equal(read.statusCode, 200)
  t.ok(read.json().readAt, 'the message is read')
  t.equal(await count('ada'), 0, 'read lowered the count')
  t.same((await inject('GET', '/inbox/ada/messages?status=unread')).json().items, [], 'no unread left')
  t.equal((await inject('GET', '/inbox/ada/messages?status=read')).json().items[0].id, first)

  const unread = await inject('POST', `/inbox/ada/messages/${first}/unread`)
  t.equal(unread.json().readAt, null)
  t.equal(await count('ada'), 1, 'unread raised it again')

  const second = await notify('ada', 'Second')
  t.equal(await count('ada'), 2)
  const archived = await inject('POST', `/inbox/ada/messages/${second}/archive`)
  t.ok(archived.json().archivedAt)
  t.equal(await count('ada'), 1, 'an archived message no longer counts')
  t.same((await inject('GET', '/inbox/ada/messages')).json().items.map((i: { id: string }) => i.id), [first], 'and is hidden from the list')
  t.same((await inject('GET', '/inbox/ada/messages?status=archived')).json().items.map((i: { id: string }) => i.id), [second], 'unless asked for')

  await notify('ada', 'Third')
  t.equal(await count('ada'), 2)
  const all = await inject('POST', '/inbox/ada/read-all')
  t.equal(all.statusCode, 200)
  t.same(all.json(), { updated: 2, count: 0 }, 'read-all says how many it marked and what is left')
  t.equal(await count('ada'), 0, 'read-all zeroed the count')
})

t.test('the cursor pages through everything once, newest first', async (t) => {
  const sent: string[] = []
  for (let i = 0; i < 5; i++) sent.push(await notify('pager', `message ${i}`))
  const seen: Array<{ id: string, createdAt: string }> = []
  let cursor: string | null = null
  for (let pages = 0; pages < 10; pages++) {
    const res = await inject('GET', '/inbox/pager/messages?limit=2' + (cursor ? `&cursor=${cursor}` : ''))
    t.equal(res.statusCode, 200, res.body)
    const page = res.json()
    t.ok(page.items.length <= 2)
    seen.push(...page.items)
    cursor = page.nextCursor
    if (!cursor) break
  }
  t.equal(cursor, null, 'the last page says there is no next one')
  t.same(seen.map((i) => i.id), [...sent].reverse(), 'every message once, newest first')
})

t.test('the recipient looking marks messages seen; the back end looking does not', async (t) => {
  const id = await notify('seer', 'Look at me')
  t.equal((await inject('GET', '/inbox/seer/messages')).json().items[0].seenAt, null, 'an API key read leaves seenAt alone')
  const { token } = await tokenFor('seer')
  const first = (await inject('GET', '/inbox/seer/messages', bearer(token))).json().items[0]
  t.equal(first.id, id)
  t.ok(first.seenAt, 'the first view by the recipient sets seenAt')
  const again = (await inject('GET', '/inbox/seer/messages', bearer(token))).json().items[0]
  t.equal(again.seenAt, first.seenAt, 'later views keep the first time')
  t.equal(again.readAt, null, 'seen is not read')
})

t.test('inbox tokens: bound to one recipient, signed and expiring', async (t) => {
  const before = Date.now()
  const { token, expiresAt } = await tokenFor('alice')
  t.ok(Date.parse(expiresAt) > before + 3500_000 && Date.parse(expiresAt) <= Date.now() + 3601_000, 'expires after INBOX_TOKEN_TTL_SECONDS (3600 by default)')
  const id = await notify('alice', 'For Alice')
  await notify('bob', 'For Bob')

  const own = await inject('GET', '/inbox/alice/messages', bearer(token))
  t.equal(own.statusCode, 200)
  t.same(own.json().items.map((i: { id: string }) => i.id), [id], 'the token reads its own inbox')
  const viaQuery = await inject('GET', `/inbox/alice/unread-count?token=${token}`, {})
  t.same(viaQuery.json(), { count: 1 }, 'also as ?token= (for EventSource)')
  const read = await inject('POST', `/inbox/alice/messages/${id}/read`, bearer(token))
  t.equal(read.statusCode, 200, 'and may mark its messages read')

  for (const [what, url] of [
    ["Bob's list", '/inbox/bob/messages'], ["Bob's count", '/inbox/bob/unread-count'], ["Bob's stream", '/inbox/bob/stream']
  ] as const) {
    const res = await inject('GET', url, bearer(token))
    t.equal(res.statusCode, 404, `Alice's token on ${what}: 404`)
    t.notMatch(res.body, /For Bob/)
  }
  t.equal((await inject('POST', '/inbox/bob/read-all', bearer(token))).statusCode, 404, "Alice's token cannot mark Bob's inbox read")
  t.equal(await count('bob'), 1, "Bob's message is still unread")

  const secret = createSecretSource(app.db, undefined)
  const past = createInboxTokens({ secret, now: () => Date.now() - 7200_000 })
  const expired = (await past.issue(claimsOf(token).t, 'alice', 3600)).token
  const res = await inject('GET', '/inbox/alice/messages', bearer(expired))
  t.equal(res.statusCode, 401, 'an expired token: 401')
  t.equal(res.json().code, 'INVALID_TOKEN')

  const [v, body, sig] = token.split('.') as [string, string, string]
  const claims = claimsOf(token)
  const forged = Buffer.from(JSON.stringify({ ...claims, r: 'bob' })).toString('base64url')
  const flip = (s: string) => s.slice(0, -1) + (s.endsWith('A') ? 'B' : 'A')
  for (const [what, bad] of [
    ['another recipient in the payload', `${v}.${forged}.${sig}`],
    ['a changed signature', `${v}.${body}.${flip(sig)}`],
    ['a signature cut short', `${v}.${body}.${sig.slice(0, 20)}`],
    ['no signature', `${v}.${body}`],
    ['a signature by another key', (await createInboxTokens({ secret: async () => Buffer.from('x'.repeat(32)) }).issue(claims.t, 'alice', 60)).token]
  ] as const) {
    const r = await inject('GET', `/inbox/${what === 'another recipient in the payload' ? 'bob' : 'alice'}/messages`, bearer(bad))
    t.equal(r.statusCode, 401, `a token with ${what}: 401`)
  }
})

/** What a token says (its payload is signed, not secret). */
function claimsOf (token: string): { t: string, r: string, exp: number } {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString())
}

t.test('without valid credentials: 401', async (t) => {
  const none = await inject('GET', '/inbox/ada/messages', {})
  t.equal(none.statusCode, 401)
  t.equal(none.json().code, 'UNAUTHORIZED')
  t.equal((await inject('GET', '/inbox/ada/messages', bearer('not-a-key-at-all-but-long-enough'))).statusCode, 401, 'an unknown API key')
  const inQuery = await inject('GET', `/inbox/ada/messages?token=${encodeURIComponent('test_' + 'k'.repeat(40))}`, {})
  t.equal(inQuery.statusCode, 401, 'an API key is not taken from the query string')
  t.equal((await inject('GET', '/inbox/ada/stream', {})).statusCode, 401, 'the stream too')
  t.equal((await inject('POST', '/recipients/ada/inbox-token', {})).statusCode, 401, 'tokens are only for API keys')
})

t.test('bad input: 400 naming the field', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['/inbox/ada/messages?limit=0', /querystring\/limit must be an integer from 1 to 100/],
    ['/inbox/ada/messages?limit=1.5', /limit/],
    ['/inbox/ada/messages?limit=101', /limit/],
    ['/inbox/ada/messages?limit=ten', /limit/],
    ['/inbox/ada/messages?status=bogus', /querystring\/status must be one of: all, unread, read, archived/],
    ['/inbox/ada/messages?cursor=%21%21', /cursor/],
    [`/inbox/ada/messages?cursor=${Buffer.from('["yesterday","x"]').toString('base64url')}`, /cursor/],
    ['/inbox/ada/messages?colour=red', /colour/],
    [`/inbox/${'r'.repeat(256)}/messages`, /recipientId/]
  ]
  for (const [url, field] of cases) {
    const res = await inject('GET', url)
    t.equal(res.statusCode, 400, `${url}: ${res.body}`)
    t.match(res.json().message, field, `${url}: the message names the field`)
  }
  const badId = await inject('POST', '/inbox/ada/messages/not-a-uuid/read')
  t.equal(badId.statusCode, 400)
  t.match(badId.json().message, /messageId/)
  const unknown = await inject('POST', '/inbox/ada/messages/00000000-0000-4000-8000-000000000000/read')
  t.equal(unknown.statusCode, 404, 'an unknown message: 404')
})

t.test("another tenant's API key sees nothing of this tenant's inbox", async (t) => {
  const id = await notify('shared-id', 'Tenant one only')
  const { key } = await createAuth(app.db).createKey('tenant-two')
  const other = bearer(key)
  t.same((await inject('GET', '/inbox/shared-id/messages', other)).json(), { items: [], nextCursor: null })
  t.equal(await count('shared-id', other), 0)
  for (const change of ['read', 'unread', 'archive']) {
    t.equal((await inject('POST', `/inbox/shared-id/messages/${id}/${change}`, other)).statusCode, 404, `${change} of another tenant's message: 404`)
  }
  t.same((await inject('POST', '/inbox/shared-id/read-all', other)).json(), { updated: 0, count: 0 })
  t.equal(await count('shared-id'), 1, "the first tenant's message is untouched")
})

t.test('storing a delivery twice keeps one message', async (t) => {
  const repo = createInboxRepository(app.db)
  const tenantId = await createAuth(app.db).tenantForKey(API_KEY) ?? ''
  const row = (await repo.list({ tenantId, recipientId: 'ada' }, 'all', 1))[0]?.row
  if (!row) throw new Error('no message to copy')
  const { id, ...rest } = row
  t.equal(await repo.store({ ...rest, text: 'a retry' }), id, 'the same delivery id finds the stored message')
  t.equal((await repo.get({ tenantId, recipientId: 'ada' }, id))?.text, row.text, 'and leaves it as it was')
})

t.test('processes without INBOX_TOKEN_SECRET agree on one generated key', async (t) => {
  const url = await createTestDatabase(t)
  const a = createDb(url, 2)
  const b = createDb(url, 2)
  t.teardown(async () => { await a.pool.end(); await b.pool.end() })
  const [ka, kb] = await Promise.all([createSecretSource(a.db, undefined)(), createSecretSource(b.db, undefined)()])
  t.ok(ka.length >= 32, 'a long random key')
  t.same(ka, kb, 'both starters read the same key')
  const issued = await createInboxTokens({ secret: createSecretSource(a.db, undefined) }).issue('t', 'r', 60)
  t.match(await createInboxTokens({ secret: createSecretSource(b.db, undefined) }).verify(issued.token), { tenantId: 't', recipientId: 'r' })
})

t.test('SSE_KEEPALIVE_MS must stay under 30 s', async (t) => {
  const env = { SERVICE_ROLE: 'inapp-service', DATABASE_URL: dbUrl, REDIS_URL: 'redis://127.0.0.1:6379' }
  t.throws(() => loadConfig({ ...env, SSE_KEEPALIVE_MS: '30000' }), /SSE_KEEPALIVE_MS/)
  t.equal(loadConfig(env).SSE_KEEPALIVE_MS, 15000, 'default 15 s')
})
