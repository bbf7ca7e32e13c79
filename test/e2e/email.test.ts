import t from 'tap'
import { buildTestApp, baseEnv, client, createTestDatabase, waitFor } from '../helper.js'
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
