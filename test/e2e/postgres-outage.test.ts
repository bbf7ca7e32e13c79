import t from 'tap'
import { buildTestApp, baseEnv, client, createTestDatabase, waitFor } from '../helper.js'
import { startSmtp } from '../peers/smtp.js'
import { startTcpProxy } from '../peers/tcp-proxy.js'

t.test('PostgreSQL unreachable: POST /notifications answers 503 and nothing is lost or half-stored', async (t) => {
  const smtp = await startSmtp()
  t.teardown(smtp.close)
  const db = await createTestDatabase(t)
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(db).port || 5432) })
  t.teardown(proxy.close)
  const viaProxy = new URL(db)
  viaProxy.port = String(proxy.port)
  const app = await buildTestApp(t, baseEnv(viaProxy.toString(), { SMTP_URL: smtp.url }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const api = client(base)
  const body = { recipient: { id: 'pg', email: 'pg@example.test' }, channels: ['email'], content: { text: 'after the outage' } }
  t.equal((await api.post('/notifications', body)).status, 202, 'accepted while the database is there')

  proxy.cut()
  const down = await api.post('/notifications', { ...body, content: { text: 'during the outage' } })
  t.equal(down.status, 503, JSON.stringify(down.body))
  t.equal(down.body.code, 'UNAVAILABLE')
  t.equal(down.headers.get('retry-after'), '5', 'says when to retry')
  const ready = await fetch(base + '/ready')
  t.equal(ready.status, 503)
  t.match(await ready.json(), { failing: ['postgres'] }, '/ready names PostgreSQL')

  // More outages than the pool has connections: none may leak a connection (drizzle's BEGIN did).
  for (let i = 0; i < 12; i++) {
    proxy.restore()
    proxy.cut()
    const r = await api.post('/notifications', { ...body, content: { text: 'during the outage' } })
    if (r.status !== 503) t.fail(`outage ${i}: ${r.status}`)
  }
  proxy.restore()
  const again = await waitFor(async () => {
    const r = await api.post('/notifications', { ...body, content: { text: 'retried by the client' } })
    return r.status === 202 ? r : undefined
  }, { what: 'the API to accept again' })
  await waitFor(async () => (await api.get(`/notifications/${again.body.id}`)).body.status === 'completed', { what: 'delivery after the outage' })
  const texts = smtp.mailsTo('pg@example.test').map((m) => m.parsed.text?.trim()).sort()
  t.ok(texts.includes('retried by the client'), 'the retried one is delivered')
  t.notOk(texts.includes('during the outage'), 'the refused ones were not half-stored and sent anyway')
  t.equal(app.pool.waitingCount, 0, 'no request waits for a connection')
  t.ok(app.pool.totalCount <= 10, 'no connection leaked past the pool size')
})
