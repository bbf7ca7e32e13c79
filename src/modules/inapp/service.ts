import type { InappMessage } from '../../db/schema.js'
import { Errors } from '../../errors.js'
import type { InboxHub } from './hub.js'
import type { Inbox, InboxRepository, Keyset } from './repository.js'
import type { InboxItem, ListQuery } from './schema.js'

const DEFAULT_LIMIT = 20
const MAX_LIMIT = 100
const iso = (d: Date | null) => d?.toISOString() ?? null
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/

export const toItem = (row: InappMessage): InboxItem => ({
  id: row.id,
  notificationId: row.notificationId,
  title: row.title,
  text: row.text,
  url: row.url,
  data: row.data ?? null,
  createdAt: row.createdAt.toISOString(),
  seenAt: iso(row.seenAt),
  readAt: iso(row.readAt),
  archivedAt: iso(row.archivedAt)
})

/** The cursor is opaque to clients: the last row's (created_at, id), base64url JSON. */
export const encodeCursor = (k: Keyset) => Buffer.from(JSON.stringify([k.ts, k.id])).toString('base64url')
export function decodeCursor (cursor: string): Keyset {
  try {
    const [ts, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[]
    if (typeof ts === 'string' && TS.test(ts) && typeof id === 'string' && UUID.test(id)) return { ts, id }
  } catch {}
  throw new Errors.InvalidInput('querystring/cursor is not a cursor this API returned: pass nextCursor as it came')
}

function parseLimit (text: string): number {
  const n = /^[0-9]{1,3}$/.test(text) ? Number(text) : NaN
  if (!(n >= 1 && n <= MAX_LIMIT)) throw new Errors.InvalidInput(`querystring/limit must be an integer from 1 to ${MAX_LIMIT}`)
  return n
}

export function createInboxService ({ repo, hub }: { repo: InboxRepository, hub: InboxHub }) {
  const changed = async (box: Inbox) => await hub.publish({ type: 'changed', ...box })

  return {
    /**
     * A page of the inbox, newest first. When the recipient themself looks (with their token),
     * the messages shown are marked seen; a back end reading with the API key marks nothing.
     */
    async list (box: Inbox, query: ListQuery, bySelf: boolean) {
      const limit = query.limit === undefined ? DEFAULT_LIMIT : parseLimit(query.limit)
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor)
      const rows = await repo.list(box, query.status ?? 'all', limit, after)
      const page = rows.slice(0, limit)
      const last = page.at(-1)
      const seen = bySelf ? await repo.markSeen(box, page.filter((r) => !r.row.seenAt).map((r) => r.row.id)) : new Map<string, Date>()
      return {
        items: page.map(({ row }) => toItem({ ...row, seenAt: row.seenAt ?? seen.get(row.id) ?? null })),
        nextCursor: rows.length > limit && last ? encodeCursor({ ts: last.ts, id: last.row.id }) : null
      }
    },
    unreadCount: async (box: Inbox) => ({ count: await repo.unreadCount(box) }),

    async change (box: Inbox, messageId: string, change: 'read' | 'unread' | 'archive'): Promise<InboxItem> {
      const row = await repo.update(box, messageId, change)
      if (!row) throw new Errors.NotFound('message')
      await changed(box)
      return toItem(row)
    },
    async readAll (box: Inbox) {
      const updated = await repo.readAll(box)
      if (updated > 0) await changed(box)
      return { updated, count: await repo.unreadCount(box) }
    },

    /** Stores a delivery's message (once) and tells every replica's streams. */
    async deliver (row: Parameters<InboxRepository['store']>[0]): Promise<string> {
      const messageId = await repo.store(row)
      await hub.publish({ type: 'message', tenantId: row.tenantId, recipientId: row.recipientId, messageId })
      return messageId
    }
  }
}
export type InboxService = ReturnType<typeof createInboxService>
