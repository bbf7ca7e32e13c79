import t from 'tap'
import { buildTestApp, baseEnv, client, createTestDatabase, spawnRole, waitFor } from '../helper.js'
import { startSmtp } from '../peers/smtp.js'

t.test('single-process mode: a notification ends as an email on the SMTP server', async (t) => {
  const smtp = await startSmtp()
  t.teardown(smtp.close)
  const db = await createTestDatabase(t)
  const app = await buildTestApp(t, baseEnv(db, { SMTP_URL: smtp.url }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const addr = app.server.address() as { port: number }
  const api = client(`http://127.0.0.1:${addr.port}`)

  const res = await api.post('/notifications', {
    recipient: { id: 'ada', email: 'ada@example.test' },
    channels: ['email'],
    content: { subject: 'Welcome', text: 'Hello Ada', html: '<p>Hello Ada</p>' }
  })
  t.equal(res.status, 202, JSON.stringify(res.body))
  t.equal(res.body.status, 'accepted')
  t.match(res.body.deliveries, [{ channel: 'email', status: 'queued' }])

  const done = await waitFor(async () => {
    const r = await api.get(`/notifications/${res.body.id}`)
    return r.body.status === 'completed' ? r.body : undefined
  }, { what: 'the notification to complete' })
  t.equal(done.deliveries[0].status, 'sent')
  t.equal(done.deliveries[0].attempts, 1)
  t.ok(done.deliveries[0].providerMessageId)

  const [mail] = smtp.mailsTo('ada@example.test')
  t.ok(mail, 'the SMTP server received the message')
  t.same(mail?.envelopeTo, ['ada@example.test'])
  t.equal(mail?.parsed.from?.value[0]?.address, 'noreply@example.test')
  t.equal(mail?.parsed.subject, 'Welcome')
  t.equal(mail?.parsed.text?.trim(), 'Hello Ada')
  t.equal(mail?.parsed.html, '<p>Hello Ada</p>')
})

t.test('three processes: notification-service, channel-orchestrator and email-service, as production runs them', async (t) => {
  const smtp = await startSmtp()
  t.teardown(smtp.close)
  const db = await createTestDatabase(t)
  const env = baseEnv(db, { SMTP_URL: smtp.url })
  const [apiRole, orchestrator, email] = await Promise.all([
    spawnRole(t, 'notification-service', env),
    spawnRole(t, 'channel-orchestrator', env),
    spawnRole(t, 'email-service', env)
  ])
  for (const role of [apiRole, orchestrator, email]) {
    const ready = await fetch(role.url + '/ready')
    t.equal(ready.status, 200, 'ready: Postgres and Redis answer')
  }
  const api = client(apiRole.url)
  const res = await api.post('/notifications', {
    recipient: { id: 'grace', email: 'grace@example.test' },
    channels: ['email'],
    content: { subject: 'Compiler ready', text: 'Hello Grace', html: '<p>Hello <b>Grace</b></p>' }
  })
  t.equal(res.status, 202, JSON.stringify(res.body))
  const done = await waitFor(async () => {
    const r = await api.get(`/notifications/${res.body.id}`)
    return r.body.deliveries[0].status === 'sent' ? r.body : undefined
  }, { what: 'the delivery to be sent' })
  t.equal(done.deliveries[0].attempts, 1)
  const [mail] = smtp.mailsTo('grace@example.test')
  t.same(mail?.envelopeTo, ['grace@example.test'])
  t.equal(mail?.parsed.from?.value[0]?.address, 'noreply@example.test')
  t.equal(mail?.parsed.subject, 'Compiler ready')
  t.equal(mail?.parsed.text?.trim(), 'Hello Grace')
  t.equal(mail?.parsed.html, '<p>Hello <b>Grace</b></p>')

  // Each role counts what it did on its own /metrics.
  const metrics = await (await fetch(email.url + '/metrics')).text()
  t.match(metrics, /deliveries_total\{[^}]*channel="email"[^}]*status="sent"[^}]*\} 1/, 'the email-service counted the delivery')
  t.match(metrics, /provider_send_duration_seconds_count\{[^}]*channel="email"/)
  const apiMetrics = await (await fetch(apiRole.url + '/metrics')).text()
  t.match(apiMetrics, /http_requests_total\{[^}]*route="\/notifications"[^}]*status="202"/, 'requests by route and status')
  t.match(apiMetrics, /queue_depth\{[^}]*queue="email"/, 'queue depth by queue')

  // SIGTERM: each role stops taking work, finishes, and exits 0.
  for (const role of [apiRole, orchestrator, email]) t.equal(await role.kill('SIGTERM'), 0, 'exit 0 on SIGTERM')
})
