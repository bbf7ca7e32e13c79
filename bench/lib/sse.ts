import http from 'node:http'
import { wallMs } from './util.js'

/**
 * Listens on recipients' inbox streams (GET /inbox/:id/stream) as a browser would, and notes when
 * each `message` event arrives, by notification id. Resolves once every stream has had its first
 * `unread-count`, which the server sends once the stream is attached.
 */
export async function listenInboxes (base: string, apiKey: string, recipientIds: string[], timeoutMs = 15000) {
  const arrivals = new Map<string, number>()
  const requests: http.ClientRequest[] = []
  let errors = 0
  const opened = recipientIds.map((id) => new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`inbox stream of ${id} sent no unread-count within ${timeoutMs} ms`)), timeoutMs)
    const req = http.get(`${base}/inbox/${encodeURIComponent(id)}/stream`, { headers: { authorization: `Bearer ${apiKey}`, accept: 'text/event-stream' }, agent: false }, (res) => {
      if (res.statusCode !== 200) { clearTimeout(timer); reject(new Error(`inbox stream of ${id} answered ${res.statusCode}`)); return }
      res.setEncoding('utf8')
      let buf = ''
      res.on('data', (chunk: string) => {
        buf += chunk
        let i: number
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i)
          buf = buf.slice(i + 2)
          let event = 'message'
          let data = ''
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7)
            else if (line.startsWith('data: ')) data += line.slice(6)
          }
          if (!data) continue
          if (event === 'unread-count') { clearTimeout(timer); resolve() } else if (event === 'message') {
            const at = wallMs()
            try {
              const item = JSON.parse(data) as { notificationId?: string }
              if (item.notificationId && !arrivals.has(item.notificationId)) arrivals.set(item.notificationId, at)
            } catch { errors++ }
          }
        }
      })
      res.on('error', () => { errors++ })
    })
    req.on('error', (err) => { clearTimeout(timer); errors++; reject(err) })
    requests.push(req)
  }))
  await Promise.all(opened)
  return {
    arrivals,
    errors: () => errors,
    close: () => { for (const r of requests) r.destroy() }
  }
}
export type InboxListener = Awaited<ReturnType<typeof listenInboxes>>
