import { and, desc, eq, inArray, isNotNull, isNull, sql, type SQL } from 'drizzle-orm'
import type { Db } from '../../db/client.js'
import { inappMessages, type InappMessage } from '../../db/schema.js'
import type { InboxStatus } from './schema.js'

export interface Inbox { tenantId: string, recipientId: string }
export interface Keyset { ts: string, id: string }

const m = inappMessages
const inbox = ({ tenantId, recipientId }: Inbox) => and(eq(m.tenantId, tenantId), eq(m.recipientId, recipientId))
const unread = () => and(isNull(m.readAt), isNull(m.archivedAt))
const byStatus: Record<InboxStatus, () => SQL | undefined> = {
  all: () => isNull(m.archivedAt),
  unread,
  read: () => and(isNotNull(m.readAt), isNull(m.archivedAt)),
  archived: () => isNotNull(m.archivedAt)
}
// The keyset keeps Postgres' microseconds: a JavaScript Date would round them and skip or repeat rows.
const cursorTs = sql<string>`to_char(${m.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`

export function createInboxRepository (db: Db) {
  return {
    /** Stores a delivery's message once: a retried delivery finds the row it stored before. */
    async store (row: Omit<typeof m.$inferInsert, 'id'>): Promise<string> {
      const [inserted] = await db.insert(m).values(row).onConflictDoNothing({ target: m.deliveryId }).returning({ id: m.id })
      if (inserted) return inserted.id
      const [existing] = await db.select({ id: m.id }).from(m).where(eq(m.deliveryId, row.deliveryId))
      if (!existing) throw new Error('in-app message neither inserted nor found')
      return existing.id
    },
    async get (box: Inbox, id: string): Promise<InappMessage | undefined> {
      const [row] = await db.select().from(m).where(and(inbox(box), eq(m.id, id)))
      return row
    },
    /** Newest first, `limit + 1` rows so the caller knows whether another page follows. */
    async list (box: Inbox, status: InboxStatus, limit: number, after?: Keyset) {
      const where = [inbox(box), byStatus[status]()]
      if (after) where.push(sql`(${m.createdAt}, ${m.id}) < (${after.ts}::timestamptz, ${after.id}::uuid)`)
      return await db.select({ row: m, ts: cursorTs }).from(m).where(and(...where))
        .orderBy(desc(m.createdAt), desc(m.id)).limit(limit + 1)
    },
    async markSeen (box: Inbox, ids: string[]): Promise<Map<string, Date>> {
      if (ids.length === 0) return new Map()
      const rows = await db.update(m).set({ seenAt: sql`now()` })
        .where(and(inbox(box), inArray(m.id, ids), isNull(m.seenAt)))
        .returning({ id: m.id, seenAt: m.seenAt })
      return new Map(rows.map((r) => [r.id, r.seenAt as Date]))
    },
    async unreadCount (box: Inbox): Promise<number> {
      const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(m).where(and(inbox(box), unread()))
      return row?.n ?? 0
    },
    async update (box: Inbox, id: string, change: 'read' | 'unread' | 'archive'): Promise<InappMessage | undefined> {
      const set = change === 'read'
        ? { readAt: sql`coalesce(${m.readAt}, now())`, seenAt: sql`coalesce(${m.seenAt}, now())` }
        : change === 'unread' ? { readAt: null } : { archivedAt: sql`coalesce(${m.archivedAt}, now())` }
      const [row] = await db.update(m).set(set).where(and(inbox(box), eq(m.id, id))).returning()
      return row
    },
    async readAll (box: Inbox): Promise<number> {
      const rows = await db.update(m).set({ readAt: sql`now()`, seenAt: sql`coalesce(${m.seenAt}, now())` })
        .where(and(inbox(box), unread())).returning({ id: m.id })
      return rows.length
    }
  }
}
export type InboxRepository = ReturnType<typeof createInboxRepository>
