import { and, asc, eq, sql } from 'drizzle-orm'
import type { Db } from '../../db/client.js'
import { pushSubscriptions, recipientPreferences, recipients } from '../../db/schema.js'
import type { Preferences, RecipientBody } from './schema.js'

export function createRecipientsRepository (db: Db) {
  return {
    async upsert (tenantId: string, id: string, body: RecipientBody): Promise<void> {
      const set = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined))
      const insert = db.insert(recipients).values({ tenantId, id, ...set })
      await (Object.keys(set).length > 0
        ? insert.onConflictDoUpdate({ target: [recipients.tenantId, recipients.id], set: { ...set, updatedAt: sql`now()` } })
        : insert.onConflictDoNothing())
    },
    async get (tenantId: string, id: string) {
      const [r] = await db.select().from(recipients).where(and(eq(recipients.tenantId, tenantId), eq(recipients.id, id)))
      if (!r) return undefined
      const [prefs] = await db.select().from(recipientPreferences)
        .where(and(eq(recipientPreferences.tenantId, tenantId), eq(recipientPreferences.recipientId, id)))
      const subs = await db.select({ id: pushSubscriptions.id, endpoint: pushSubscriptions.endpoint, createdAt: pushSubscriptions.createdAt })
        .from(pushSubscriptions)
        .where(and(eq(pushSubscriptions.tenantId, tenantId), eq(pushSubscriptions.recipientId, id)))
        .orderBy(asc(pushSubscriptions.createdAt))
      return { recipient: r, preferences: prefs, subscriptions: subs }
    },
    /** Merges the given switches into the stored ones: a PUT with {sms: false} leaves email as it was. */
    async mergePreferences (tenantId: string, id: string, p: Preferences) {
      return await db.transaction(async (tx) => {
        const where = and(eq(recipientPreferences.tenantId, tenantId), eq(recipientPreferences.recipientId, id))
        const [old] = await tx.select().from(recipientPreferences).where(where).for('update')
        const categories = { ...old?.categories }
        for (const [name, switches] of Object.entries(p.categories ?? {})) categories[name] = { ...categories[name], ...switches as Record<string, boolean> }
        const channels = { ...old?.channels, ...p.channels as Record<string, boolean> }
        const [row] = await tx.insert(recipientPreferences).values({ tenantId, recipientId: id, channels, categories })
          .onConflictDoUpdate({ target: [recipientPreferences.tenantId, recipientPreferences.recipientId], set: { channels, categories, updatedAt: sql`now()` } })
          .returning()
        return row
      })
    }
  }
}
export type RecipientsRepository = ReturnType<typeof createRecipientsRepository>
