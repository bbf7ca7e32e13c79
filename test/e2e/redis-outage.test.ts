import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { baseEnv, client, createTestDatabase, spawnRole, waitFor } from '../helper.js'
import { startSmtp } from '../peers/smtp.js'

/** A Redis of this test's own, so stopping it touches nobody else's queues. */
async function startRedis (t: Test, port: number): Promise<ChildProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'ns-redis-'))
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  await waitFor(async () => {
    const { Redis } = await import('ioredis')
    const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false })
    try { await r.connect(); return (await r.ping()) === 'PONG' } finally { r.disconnect() }
  }, { what: 'redis-server to answer' })
  return child
}
const stop = async (child: ChildProcess) => {
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
}

t.test('Redis unreachable at POST /notifications: stored durably, delivered once Redis is back', async (t) => {
  const port = 40000 + Math.floor(Math.random() * 20000)
  let redis = await startRedis(t, port)
  const smtp = await startSmtp()
  t.teardown(smtp.close)
  const db = await createTestDatabase(t)
  const role = await spawnRole(t, 'all', baseEnv(db, { SMTP_URL: smtp.url, REDIS_URL: `redis://127.0.0.1:${port}`, OUTBOX_POLL_MS: '200' }))
  const api = client(role.url)

  await stop(redis)
  const ready = await fetch(role.url + '/ready')
  t.equal(ready.status, 503, '/ready says the system is not ready')
  t.match(await ready.json(), { failing: ['redis'] }, 'and names Redis')

  const res = await api.post('/notifications', { recipient: { id: 'out', email: 'out@example.test' }, channels: ['email'], content: { text: 'kept' } })
  // The contract allows 202 (stored) or 503; this system keeps it in its transactional outbox.
  t.equal(res.status, 202, `stored in the outbox: ${JSON.stringify(res.body)}`)
  const stored = await api.get(`/notifications/${res.body.id}`)
  t.equal(stored.status, 200, 'readable while Redis is down (it lives in PostgreSQL)')
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.equal(smtp.mailsTo('out@example.test').length, 0, 'nothing could be sent yet')

  redis = await startRedis(t, port)
  const done = await waitFor(async () => {
    const r = await api.get(`/notifications/${res.body.id}`)
    return r.body.status === 'completed' ? r.body : undefined
  }, { timeoutMs: 30000, what: 'delivery after Redis came back' })
  t.equal(done.deliveries[0].status, 'sent')
  t.equal(smtp.mailsTo('out@example.test').length, 1, 'sent exactly once')
  t.equal((await fetch(role.url + '/ready')).status, 200, 'ready again')
  t.equal(await role.kill('SIGTERM'), 0)
})
