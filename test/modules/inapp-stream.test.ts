import t from 'tap'
import { baseEnv, client, createTestDatabase, spawnRole, waitFor } from '../helper.js'

interface SseEvent { event: string, data: string, comment?: string }

/** Reads a text/event-stream with fetch: events and comments in order, waited for boundedly. */
async function openStream (url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController()
  const res = await fetch(url, { headers, signal: controller.signal })
  const events: SseEvent[] = []
  let ended = false
  let buffer = ''
  const pump = (async () => {
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += decoder.decode(value, { stream: true })
        let cut: number
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut)
          buffer = buffer.slice(cut + 2)
          const e: SseEvent = { event: 'message', data: '' }
          let any = false
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) { e.comment = line.slice(1).trim(); any = true } else if (line.startsWith('event:')) { e.event = line.slice(6).trim(); any = true } else if (line.startsWith('data:')) { e.data += line.slice(5).trim(); any = true }
          }
          // A block of only a comment is not an event: it has no type.
          if (!e.data) e.event = ''
          if (any && (e.data || e.comment)) events.push(e)
        }
      }
    } catch {}
    ended = true
  })()
  let read = 0
  return {
    res,
    events,
    ended: () => ended,
    /** The next event (not comment) after the ones already taken. */
    async next (what: string): Promise<SseEvent> {
      return await waitFor(() => {
        while (read < events.length) {
          const e = events[read++]!
          if (e.comment === undefined) return e
        }
        return undefined
      }, { what, timeoutMs: 15000 })
    },
    async close () { controller.abort(); await pump }
  }
}

const dbUrl = await createTestDatabase(t)
const env = baseEnv(dbUrl, { SSE_KEEPALIVE_MS: '300' })
const [api, , inapp1, inapp2] = await Promise.all([
  spawnRole(t, 'notification-service', env),
  spawnRole(t, 'channel-orchestrator', env),
  spawnRole(t, 'inapp-service', env),
  spawnRole(t, 'inapp-service', env)
])
const http = client(api.url)
const tokenFor = async (id: string) => (await http.post(`/recipients/${id}/inbox-token`)).body.token as string
const send = async (id: string, text: string) => {
  const res = await http.post('/notifications', { recipient: { id }, channels: ['inapp'], content: { title: 'Hi', text } })
  if (res.status !== 202) throw new Error(JSON.stringify(res.body))
  return res.body.id as string
}

t.test('streams on two replicas both get a message sent after they connected, count first', async (t) => {
  const token = await tokenFor('ada')
  const one = await openStream(`${inapp1.url}/inbox/ada/stream?token=${token}`)
  const two = await openStream(`${inapp2.url}/inbox/ada/stream`, { authorization: `Bearer ${token}` })
  t.teardown(async () => { await one.close(); await two.close() })
  t.equal(one.res.status, 200)
  t.match(one.res.headers.get('content-type'), /^text\/event-stream/)
  for (const s of [one, two]) t.same(await s.next('the first event'), { event: 'unread-count', data: '{"count":0}' }, 'the current count comes first')

  const notificationId = await send('ada', 'Live hello')
  // Only one replica stored it (one worker took the job): the other heard of it through Redis.
  for (const [name, s] of [['replica 1', one], ['replica 2', two]] as const) {
    const message = await s.next(`the message on ${name}`)
    t.equal(message.event, 'message', name)
    const item = JSON.parse(message.data)
    t.match(item, { notificationId, title: 'Hi', text: 'Live hello', readAt: null, archivedAt: null }, `${name}: the item as the list shows it`)
    t.same(await s.next(`the new count on ${name}`), { event: 'unread-count', data: '{"count":1}' }, `${name}: then the new count`)
  }
  const listed = await client(inapp1.url).get('/inbox/ada/messages')
  t.same(Object.keys(listed.body.items[0]).sort(), Object.keys(JSON.parse(one.events.find((e) => e.event === 'message')!.data)).sort(), 'stream items have the list item shape')
})

t.test('a change made through one replica reaches a stream on the other', async (t) => {
  const token = await tokenFor('bob')
  await send('bob', 'Read me elsewhere')
  const box = client(inapp1.url, token)
  const messageId = await waitFor(async () => (await box.get('/inbox/bob/messages')).body.items[0]?.id as string | undefined, { what: "Bob's message" })
  const stream = await openStream(`${inapp2.url}/inbox/bob/stream?token=${token}`)
  t.teardown(stream.close)
  t.same(await stream.next('the first count'), { event: 'unread-count', data: '{"count":1}' })
  t.equal((await box.post(`/inbox/bob/messages/${messageId}/read`)).status, 200, 'read on replica 1')
  t.same(await stream.next('the count after read'), { event: 'unread-count', data: '{"count":0}' }, 'replica 2 streams the lower count')
  await box.post(`/inbox/bob/messages/${messageId}/unread`)
  t.same(await stream.next('the count after unread'), { event: 'unread-count', data: '{"count":1}' })
  await box.post('/inbox/bob/read-all')
  t.same(await stream.next('the count after read-all'), { event: 'unread-count', data: '{"count":0}' })
  await box.post(`/inbox/bob/messages/${messageId}/unread`)
  t.same(await stream.next('the count after unread'), { event: 'unread-count', data: '{"count":1}' })
  await box.post(`/inbox/bob/messages/${messageId}/archive`)
  t.same(await stream.next('the count after archive'), { event: 'unread-count', data: '{"count":0}' })
})

t.test('a stream is kept alive with comments, only for its own recipient, and ends on shutdown', async (t) => {
  const token = await tokenFor('carol')
  const refused = await fetch(`${inapp1.url}/inbox/dave/stream?token=${token}`)
  t.equal(refused.status, 404, "Carol's token on Dave's stream")
  t.equal((await fetch(`${inapp1.url}/inbox/carol/stream?token=${token}x`)).status, 401, 'a tampered token')
  t.equal((await fetch(`${inapp1.url}/inbox/carol/stream`)).status, 401, 'no token')

  const stream = await openStream(`${inapp2.url}/inbox/carol/stream?token=${token}`)
  t.teardown(stream.close)
  await stream.next('the first count')
  await waitFor(() => stream.events.some((e) => e.comment === 'keep-alive'), { what: 'a keep-alive comment (SSE_KEEPALIVE_MS=300)' })
  await send('dave', 'Not for Carol')
  await send('carol', 'For Carol')
  const message = await stream.next("Carol's message")
  t.equal(JSON.parse(message.data).text, 'For Carol', "Dave's message never reached Carol's stream")

  const code = await inapp2.kill('SIGTERM')
  t.equal(code, 0, 'the replica with an open stream exits 0 on SIGTERM')
  await waitFor(() => stream.ended(), { what: 'the stream to end' })
})
