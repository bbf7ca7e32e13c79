import { and, eq, isNull } from 'drizzle-orm'
import type { Db } from '../../db/client.js'
import { apiKeys, tenants } from '../../db/schema.js'

export function createAuthRepository (db: Db) {
  return {
    async tenantForKeyHash (keyHash: string): Promise<string | undefined> {
      const [row] = await db.select({ tenantId: apiKeys.tenantId }).from(apiKeys)
        .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt))).limit(1)
      return row?.tenantId
    },
    async ensureTenant (name: string): Promise<string> {
      await db.insert(tenants).values({ name }).onConflictDoNothing({ target: tenants.name })
      const [row] = await db.select({ id: tenants.id }).from(tenants).where(eq(tenants.name, name))
      if (!row) throw new Error(`tenant ${name} could not be created`)
      return row.id
    },
    async insertKey (tenantId: string, keyHash: string, prefix: string, name: string): Promise<void> {
      await db.insert(apiKeys).values({ tenantId, keyHash, prefix, name }).onConflictDoNothing({ target: apiKeys.keyHash })
    }
  }
}
