import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { inboxOf } from './auth.js'
import type { InboxHub, StreamClient } from './hub.js'
import { InboxParams, TokenQuery, errors } from './schema.js'

// A browser that cannot keep up is cut off rather than buffered without bound; EventSource reconnects.
const MAX_BUFFERED_BYTES = 1024 * 1024

/**
 * The live stream, written by hand on the raw response: Server-Sent Events are a few lines of
 * text, and owning the socket lets the hub end every stream in `preClose`, before the server
 * waits for its connections, so a shutdown is never held up by open browsers.
 */
export const inboxStream: FastifyPluginAsyncTypebox<{ hub: InboxHub }> = async (app, { hub }) => {
  app.get('/inbox/:recipientId/stream', {
    schema: {
      params: InboxParams,
      querystring: TokenQuery,
      response: { 200: Type.String({ description: 'text/event-stream: `unread-count` first, then `message` and `unread-count` events' }), ...errors }
    }
  }, async (request, reply) => {
    const box = inboxOf(request)
    await hub.subscribed(2000)
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'access-control-allow-origin': '*'
    })
    res.write('retry: 3000\n\n')
    let open = true
    let detach = () => {}
    const end = () => {
      if (!open) return
      open = false
      detach()
      res.end()
    }
    const write = (chunk: string) => {
      if (!open) return
      if (res.writableLength > MAX_BUFFERED_BYTES) return end()
      res.write(chunk)
    }
    const client: StreamClient = {
      send: (event, data) => write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`),
      comment: (text) => write(`: ${text}\n\n`),
      close: end
    }
    detach = hub.attach(box, client)
    res.on('close', end)
  })
}
