import { Errors } from '../../errors.js'
import type { RecipientsRepository } from './repository.js'
import type { Preferences, RecipientBody, RecipientView } from './schema.js'

export function createRecipientsService ({ repo }: { repo: RecipientsRepository }) {
  async function get (tenantId: string, id: string): Promise<RecipientView> {
    const found = await repo.get(tenantId, id)
    if (!found) throw new Errors.NotFound('recipient')
    const { recipient: r, preferences: p, subscriptions } = found
    return {
      id: r.id,
      email: r.email,
      phone: r.phone,
      locale: r.locale,
      timezone: r.timezone,
      preferences: { channels: p?.channels ?? {}, categories: p?.categories ?? {} },
      pushSubscriptions: subscriptions.map((s) => ({ id: s.id, endpoint: s.endpoint, createdAt: s.createdAt.toISOString() })),
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString()
    }
  }
  return {
    get,
    async put (tenantId: string, id: string, body: RecipientBody): Promise<RecipientView> {
      await repo.upsert(tenantId, id, body)
      return await get(tenantId, id)
    },
    async setPreferences (tenantId: string, id: string, prefs: Preferences) {
      await repo.upsert(tenantId, id, {})
      const row = await repo.mergePreferences(tenantId, id, prefs)
      return { channels: row?.channels ?? {}, categories: row?.categories ?? {} }
    }
  }
}
export type RecipientsService = ReturnType<typeof createRecipientsService>
