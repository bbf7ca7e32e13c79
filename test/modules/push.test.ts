import pg from 'pg'
import t from 'tap'
import webpush from 'web-push'
import { auth, baseEnv, buildTestApp, client, createTestDatabase, spawnRole, waitFor } from '../helper.js'
import { startPushService, type PushSubscriptionJSON } from '../peers/push-service.js'

const vapid = webpush.generateVAPIDKeys()
const vapidEnv = { VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: 'mailto:ops@example.test' }

const peer = await startPushService()
t.teardown(() => peer.close())
const dbUrl = await createTestDatabase(t)
const sql = new pg.Client({ connectionString: dbUrl })
await sql.connect()
t.teardown(() => sql.end())
const subscriptionsOf = async (recipientId: string) =>
  (await sql.query('select endpoint from push_subscriptions where recipient_id = $1 order by created_at', [recipientId])).rows.map((r) => r.endpoint as string)

t.test('in process, private endpoints refused (PUSH_ALLOW_PRIVATE_ENDPOINTS unset)', async (t) => {
  const app = await buildTestApp(t, baseEnv(dbUrl, vapidEnv))
  const post = (id: string, body: unknown, headers = auth()) =>
    app.inject({ method: 'POST', url: `/recipients/${id}/push-subscriptions`, headers, payload: body as object })
  const good = peer.subscriber()

  t.test('GET /push/vapid-public-key needs no key and gives the public key', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/push/vapid-public-key' })
    t.equal(res.statusCode, 200)
    t.same(res.json(), { publicKey: vapid.publicKey })
  })

  t.test('subscribing needs an API key', async (t) => {
    const res = await post('r-1', good, {} as ReturnType<typeof auth>)
    t.equal(res.statusCode, 401)
  })

  t.test('endpoints that are not https, or not on public addresses, get 400', async (t) => {
    const cases = [
      'http://push.example.test/x', 'http://8.8.8.8/x', 'https://127.0.0.1/push/x', good.endpoint, 'https://10.0.0.1/push/x',
      'https://localhost/push/x', 'https://[::1]/x', 'https://169.254.169.254/latest/meta-data', 'https://192.168.1.1/x',
      'https://100.64.0.1/x', 'https://[fd12::1]/x', 'https://[::ffff:127.0.0.1]/x', 'https://0.0.0.0/x', 'not a url'
    ]
    for (const endpoint of cases) {
      const res = await post('r-1', { ...good, endpoint })
      t.equal(res.statusCode, 400, endpoint)
      t.match(res.json(), { code: 'PUSH_ENDPOINT_REFUSED', message: /^body\/endpoint (must be an https|is not on|host .* is not on|is not a URL)/ }, endpoint)
    }
    t.match((await post('r-1', { ...good, endpoint: 'http://x.example.test/' })).json().message, /https/)
    t.match((await post('r-1', { ...good, endpoint: 'https://localhost/x' })).json().message, /PUSH_ALLOW_PRIVATE_ENDPOINTS/)
    t.same(await subscriptionsOf('r-1'), [], 'nothing stored')
  })

  t.test('bad keys get 400 naming the field', async (t) => {
    const endpoint = 'https://8.8.8.8/push/keys'
    const offCurve = Buffer.from(good.keys.p256dh, 'base64url')
    offCurve[50] = (offCurve[50] ?? 0) ^ 0xff
    const cases: Array<[string, unknown, RegExp]> = [
      ['p256dh too short', { endpoint, keys: { ...good.keys, p256dh: 'BAAA' } }, /keys\/p256dh/],
      ['p256dh off the curve', { endpoint, keys: { ...good.keys, p256dh: offCurve.toString('base64url') } }, /keys\/p256dh/],
      ['p256dh not base64url', { endpoint, keys: { ...good.keys, p256dh: '!'.repeat(87) } }, /keys\/p256dh/],
      ['auth 8 bytes', { endpoint, keys: { ...good.keys, auth: Buffer.alloc(8).toString('base64url') } }, /keys\/auth/],
      ['auth missing', { endpoint, keys: { p256dh: good.keys.p256dh } }, /keys\/auth/],
      ['keys missing', { endpoint }, /keys/],
      ['endpoint missing', { keys: good.keys }, /endpoint/],
      ['unknown field', { endpoint, keys: good.keys, colour: 'red' }, /colour/]
    ]
    for (const [name, body, field] of cases) {
      const res = await post('r-2', body)
      t.equal(res.statusCode, 400, name)
      t.match(res.json().message, field, `${name}: ${res.json().message}`)
    }
    t.same(await subscriptionsOf('r-2'), [])
  })

  t.test('a public endpoint is stored once (upsert), listed by GET /recipients/:id, and can be removed', async (t) => {
    const endpoint = 'https://8.8.8.8/push/device-1'
    const body = { endpoint, expirationTime: null, keys: good.keys }
    const first = await post('new-recipient', body)
    t.equal(first.statusCode, 201, first.body)
    t.match(first.json(), { id: /^[0-9a-f-]{36}$/, recipientId: 'new-recipient', endpoint })
    const again = await post('new-recipient', { ...body, keys: peer.subscriber().keys })
    t.equal(again.statusCode, 201)
    t.equal(again.json().id, first.json().id, 'the same endpoint is one subscription')
    const r = await app.inject({ method: 'GET', url: '/recipients/new-recipient', headers: auth() })
    t.equal(r.statusCode, 200, 'the recipient was created by subscribing')
    t.match(r.json().pushSubscriptions, [{ endpoint }])
    t.equal(r.json().pushSubscriptions.length, 1)

    const moved = await post('other-recipient', body)
    t.equal(moved.statusCode, 201)
    t.same(await subscriptionsOf('new-recipient'), [], 'a browser subscribing for another recipient moves its subscription')
    t.same(await subscriptionsOf('other-recipient'), [endpoint])

    const del = (id: string, ep: string) => app.inject({ method: 'DELETE', url: `/recipients/${id}/push-subscriptions`, headers: auth(), payload: { endpoint: ep } })
    t.equal((await del('new-recipient', endpoint)).statusCode, 404, 'not this recipient\'s')
    t.equal((await del('other-recipient', endpoint)).statusCode, 204)
    t.same(await subscriptionsOf('other-recipient'), [])
    t.equal((await del('other-recipient', endpoint)).statusCode, 404, 'already gone')
  })

  t.test('send time re-checks the endpoint: a stored private endpoint fails for good and is never contacted', async (t) => {
    // As if the host had moved to a private address after it was accepted.
    const sub = peer.subscriber()
    await sql.query(`insert into recipients (tenant_id, id) select id, 'moved' from tenants where name = 'default'`)
    await sql.query(`insert into push_subscriptions (tenant_id, recipient_id, endpoint, p256dh, auth)
      select id, 'moved', $1, $2, $3 from tenants where name = 'default'`, [sub.endpoint, sub.keys.p256dh, sub.keys.auth])
    const before = peer.received.length + peer.rejected.length
    const res = await app.inject({ method: 'POST', url: '/notifications', headers: auth(), payload: { recipient: { id: 'moved' }, channels: ['push'], content: { text: 'x' } } })
    t.equal(res.statusCode, 202)
    const done = await waitFor(async () => {
      const r = (await app.inject({ method: 'GET', url: `/notifications/${res.json().id}`, headers: auth() })).json()
      return r.status === 'failed' ? r : undefined
    }, { what: 'the push delivery to fail' })
    t.match(done.deliveries[0], { status: 'failed', reason: 'endpoint_not_allowed', attempts: 1 })
    t.equal(peer.received.length + peer.rejected.length, before, 'the push peer was not contacted')
    t.same(await subscriptionsOf('moved'), [sub.endpoint], 'the subscription is kept: the address may come back')
  })
})

t.test('without VAPID settings: the key route says so with 503', async (t) => {
  const app = await buildTestApp(t, baseEnv(dbUrl))
  const res = await app.inject({ method: 'GET', url: '/push/vapid-public-key' })
  t.equal(res.statusCode, 503)
  t.match(res.json(), { code: 'PUSH_NOT_CONFIGURED', message: /VAPID_PUBLIC_KEY/ })
})

t.test('spawned single-process mode sending to the push peer (NODE_EXTRA_CA_CERTS, private endpoints allowed)', async (t) => {
  const proc = await spawnRole(t, 'all', baseEnv(dbUrl, { ...vapidEnv, PUSH_ALLOW_PRIVATE_ENDPOINTS: 'true', NODE_EXTRA_CA_CERTS: peer.caPath }))
  const api = client(proc.url)
  const subscribe = async (recipientId: string, sub: PushSubscriptionJSON) => {
    const r = await api.post(`/recipients/${recipientId}/push-subscriptions`, sub)
    if (r.status !== 201) throw new Error(JSON.stringify(r.body))
    return r.body
  }
  const notify = async (recipientId: string, extra: Record<string, unknown> = {}, content: Record<string, unknown> = { title: 'Hi', text: 'Hello' }) => {
    const res = await api.post('/notifications', { recipient: { id: recipientId }, channels: ['push'], content, ...extra })
    if (res.status !== 202) throw new Error(JSON.stringify(res.body))
    return await waitFor(async () => {
      const r = await api.get(`/notifications/${res.body.id}`)
      return ['completed', 'failed'].includes(r.body.status) ? r.body : undefined
    }, { what: `push notification for ${recipientId} to settle` })
  }
  const receivedFor = (sub: PushSubscriptionJSON) => peer.received.filter((m) => sub.endpoint.endsWith('/push/' + encodeURIComponent(m.id)))

  t.test('the browser gets the encrypted payload: title, text, url, data, notificationId; VAPID, TTL and Urgency set', async (t) => {
    const sub = peer.subscriber()
    await subscribe('ada', sub)
    const done = await notify('ada', { priority: 'high' }, { title: 'Welcome', text: 'Hello Ada', url: 'https://example.test/welcome', data: { orderId: 7 } })
    t.equal(done.status, 'completed')
    t.match(done.deliveries[0], { channel: 'push', status: 'sent', attempts: 1, providerMessageId: new RegExp(`^${peer.origin}/message/`) })
    const [m] = receivedFor(sub)
    t.ok(m, 'the push service received it')
    t.same(m?.payload, { title: 'Welcome', text: 'Hello Ada', url: 'https://example.test/welcome', data: { orderId: 7 }, notificationId: done.id })
    t.equal(m?.headers['content-encoding'], 'aes128gcm')
    t.equal(m?.urgency, 'high')
    t.equal(m?.ttl, 86400)
    t.match(m?.vapid, { aud: peer.origin, sub: 'mailto:ops@example.test', publicKey: vapid.publicKey }, 'the VAPID JWT the peer verified')

    const low = await notify('ada', { priority: 'low' }, { text: 'no title' })
    t.equal(low.status, 'completed')
    const last = receivedFor(sub).at(-1)
    t.equal(last?.urgency, 'low')
    t.equal(last?.ttl, 3600, 'low priority lives shorter')
    t.same(last?.payload, { text: 'no title', notificationId: low.id })
  })

  t.test('410: failed/subscription_gone, and the subscription is gone from GET /recipients/:id', async (t) => {
    const sub = peer.subscriber()
    await subscribe('bob', sub)
    t.equal((await api.get('/recipients/bob')).body.pushSubscriptions.length, 1)
    peer.script((m) => sub.endpoint.endsWith(m.id) ? 410 : undefined)
    t.teardown(() => peer.script(undefined))
    const done = await notify('bob')
    t.equal(done.status, 'failed')
    t.match(done.deliveries[0], { status: 'failed', reason: 'subscription_gone', attempts: 1 })
    t.same((await api.get('/recipients/bob')).body.pushSubscriptions, [])
  })

  t.test('two subscriptions, one gone and one fine: sent, and only the gone one deleted', async (t) => {
    const gone = peer.subscriber()
    const fine = peer.subscriber()
    await subscribe('cy', gone)
    await subscribe('cy', fine)
    peer.script((m) => gone.endpoint.endsWith(m.id) ? 404 : undefined)
    t.teardown(() => peer.script(undefined))
    const done = await notify('cy')
    t.equal(done.status, 'completed')
    t.match(done.deliveries[0], { status: 'sent', attempts: 1 })
    t.equal(receivedFor(fine).length, 1)
    t.equal(receivedFor(gone).length, 1, 'both were tried')
    t.same((await api.get('/recipients/cy')).body.pushSubscriptions.map((s: { endpoint: string }) => s.endpoint), [fine.endpoint])
  })

  t.test('5xx then 201: retried to sent', async (t) => {
    const sub = peer.subscriber()
    await subscribe('dee', sub)
    let n = 0
    peer.script((m) => sub.endpoint.endsWith(m.id) && ++n === 1 ? { status: 503, retryAfter: 0 } : undefined)
    t.teardown(() => peer.script(undefined))
    const done = await notify('dee')
    t.match(done.deliveries[0], { status: 'sent', attempts: 2 })
    t.same(receivedFor(sub).map((m) => m.status), [503, 201])
  })

  t.test('a payload too large for Web Push fails for good without a send', async (t) => {
    const sub = peer.subscriber()
    await subscribe('eve', sub)
    const done = await notify('eve', {}, { text: 'x'.repeat(5000) })
    t.match(done.deliveries[0], { status: 'failed', reason: 'payload_too_large', attempts: 1 })
    t.equal(receivedFor(sub).length, 0)
  })

  t.test('a recipient without subscriptions is skipped with no_address', async (t) => {
    const done = await notify('nobody')
    t.match(done.deliveries[0], { status: 'skipped', reason: 'no_address' })
  })
})

t.test('push-service alone: starts with its settings; a VAPID pair that does not match stops it naming the settings', async (t) => {
  const ok = await spawnRole(t, 'push-service', baseEnv(dbUrl, vapidEnv))
  t.equal((await fetch(ok.url + '/health')).status, 200)
  t.equal(await ok.kill('SIGTERM'), 0, 'and stops cleanly')

  const other = webpush.generateVAPIDKeys()
  const err = await spawnRole(t, 'push-service', baseEnv(dbUrl, { ...vapidEnv, VAPID_PRIVATE_KEY: other.privateKey })).catch((e: unknown) => e as Error)
  t.match(err, { message: /exited with 1.*VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY, VAPID_SUBJECT: invalid VAPID settings: the public key is not the private key's/s })
  const missing = await spawnRole(t, 'push-service', baseEnv(dbUrl, { VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_SUBJECT: 'mailto:a@b.test' })).catch((e: unknown) => e as Error)
  t.match(missing, { message: /VAPID_PRIVATE_KEY is required/ })
})
