import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import type { Inbox } from './repository.js'
import type { InboxItem } from './schema.js'

/** What replicas tell each other: ids only, so no message text passes through Redis or the logs. */
export type InboxEvent =
  | { type: 'message', tenantId: string, recipientId: string, messageId: string }
  | { type: 'changed', tenantId: string, recipientId: string }

/** One open stream, as the hub sees it. `count` is the last unread count it was sent. */
export interface StreamClient {
  send: (event: string, data: unknown) => void
  comment: (text: string) => void
  close: () => void
  count?: number
}

interface Entry { box: Inbox, clients: Set<StreamClient>, chain: Promise<void> }

const keyOf = (box: Inbox) => `${box.tenantId}\u0000${box.recipientId}`

/**
 * Fans inbox events out to this process's open streams. Every replica subscribes once to one
 * Redis channel and publishes there, so a change made anywhere reaches a browser connected
 * anywhere (the publishing process hears its own events too: there is one path, not two).
 * Work for one inbox runs in order, so a stream never sees a count older than one it has.
 */
export function createInboxHub (opts: {
  publisher: Redis
  subscriber: Redis
  channel: string
  keepAliveMs: number
  load: (box: Inbox, messageId: string) => Promise<InboxItem | undefined>
  count: (box: Inbox) => Promise<number>
  log: FastifyBaseLogger
}) {
  const { publisher, subscriber, channel, log } = opts
  const entries = new Map<string, Entry>()
  let closing = false
  let timer: NodeJS.Timeout | undefined
  let subscribed: Promise<boolean> = Promise.resolve(false)

  const enqueue = (entry: Entry, task: () => Promise<void>) => {
    entry.chain = entry.chain.then(task).catch((err: unknown) => log.warn({ err }, 'inbox stream update failed'))
  }

  const refreshCount = (entry: Entry) => async () => {
    if (entry.clients.size === 0) return
    const count = await opts.count(entry.box)
    for (const client of entry.clients) {
      if (client.count === count) continue
      client.count = count
      client.send('unread-count', { count })
    }
  }

  const dispatch = (event: InboxEvent) => {
    const entry = entries.get(keyOf(event))
    if (!entry) return
    if (event.type === 'message') {
      enqueue(entry, async () => {
        const item = await opts.load(entry.box, event.messageId)
        // A stream that has not had its first count yet gets the message through that count and the list.
        if (item) for (const client of entry.clients) if (client.count !== undefined) client.send('message', item)
      })
    }
    enqueue(entry, refreshCount(entry))
  }

  const onMessage = (ch: string, raw: string) => {
    if (ch !== channel) return
    let event: InboxEvent
    try {
      event = JSON.parse(raw) as InboxEvent
    } catch {
      return log.warn('unreadable inbox event ignored')
    }
    if (typeof event?.tenantId === 'string' && typeof event.recipientId === 'string') dispatch(event)
  }

  return {
    /**
     * Subscribes without holding up the start: with Redis away the process still serves (and
     * reports itself unready); the subscription is made once Redis answers, and after each reconnect.
     */
    start (): void {
      subscriber.on('message', onMessage)
      // After Redis comes back, events may have been missed: send every stream its count again.
      let readyBefore = false
      subscriber.on('ready', () => {
        if (readyBefore) for (const entry of entries.values()) enqueue(entry, refreshCount(entry))
        readyBefore = true
      })
      subscribed = subscriber.subscribe(channel).then(() => true, (err: unknown) => {
        log.warn({ err }, 'inbox subscription failed')
        return false
      })
      timer = setInterval(() => {
        for (const entry of entries.values()) for (const client of entry.clients) client.comment('keep-alive')
      }, opts.keepAliveMs)
      timer.unref()
    },

    /** Resolves once this process hears the channel, or after `ms`: a new stream waits for it, boundedly. */
    async subscribed (ms: number): Promise<void> {
      let t: NodeJS.Timeout | undefined
      await Promise.race([subscribed, new Promise((resolve) => { t = setTimeout(resolve, ms) })])
      clearTimeout(t)
    },

    /** Tells every replica; when Redis is away, at least this process's streams hear it. */
    async publish (event: InboxEvent): Promise<void> {
      try {
        await publisher.publish(channel, JSON.stringify(event))
      } catch (err) {
        log.warn({ err, type: event.type }, 'inbox event not published to Redis; told local streams only')
        dispatch(event)
      }
    },

    /** Adds a stream; its first event is the current unread count. Returns the detach function. */
    attach (box: Inbox, client: StreamClient): () => void {
      if (closing) {
        client.close()
        return () => {}
      }
      const key = keyOf(box)
      let entry = entries.get(key)
      if (!entry) {
        entry = { box, clients: new Set(), chain: Promise.resolve() }
        entries.set(key, entry)
      }
      const e = entry
      e.clients.add(client)
      enqueue(e, refreshCount(e))
      return () => {
        e.clients.delete(client)
        if (e.clients.size === 0 && entries.get(key) === e) entries.delete(key)
      }
    },

    streams: () => [...entries.values()].reduce((n, e) => n + e.clients.size, 0),

    /** Ends every open stream, so the server can close; browsers reconnect to another replica. */
    closeStreams (): void {
      closing = true
      if (timer) clearInterval(timer)
      for (const entry of entries.values()) for (const client of entry.clients) client.close()
      entries.clear()
    },

    stop (): void {
      if (timer) clearInterval(timer)
      subscriber.off('message', onMessage)
      subscriber.disconnect()
    }
  }
}
export type InboxHub = ReturnType<typeof createInboxHub>
