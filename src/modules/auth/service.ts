import { createHash, randomBytes } from 'node:crypto'
import type { createAuthRepository } from './repository.js'

const CACHE_TTL_MS = 30_000
const CACHE_MAX = 10_000

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex')

/**
 * API keys are random 32-byte secrets, so one SHA-256 is a sound hash (no password stretching
 * needed), and a short-lived cache spares the database a lookup on every request.
 */
export function createAuthService ({ repo }: { repo: ReturnType<typeof createAuthRepository> }) {
  const cache = new Map<string, { tenantId: string | undefined, until: number }>()

  return {
    async tenantForKey (key: string): Promise<string | undefined> {
      const hash = hashKey(key)
      const hit = cache.get(hash)
      if (hit && hit.until > Date.now()) return hit.tenantId
      const tenantId = await repo.tenantForKeyHash(hash)
      if (cache.size >= CACHE_MAX) cache.clear()
      // Unknown keys are cached for a shorter time, so a key created a moment ago works soon.
      cache.set(hash, { tenantId, until: Date.now() + (tenantId ? CACHE_TTL_MS : 2000) })
      return tenantId
    },
    async ensureKey (tenantName: string, key: string, name = 'bootstrap'): Promise<string> {
      const tenantId = await repo.ensureTenant(tenantName)
      await repo.insertKey(tenantId, hashKey(key), key.slice(0, 8), name)
      return tenantId
    },
    /** Makes a new key for a tenant (created if new) and returns it: the only time it is seen. */
    async createKey (tenantName: string, name = 'default'): Promise<{ key: string, tenantId: string }> {
      const key = 'ns_' + randomBytes(32).toString('base64url')
      const tenantId = await this.ensureKey(tenantName, key, name)
      return { key, tenantId }
    }
  }
}
export type AuthService = ReturnType<typeof createAuthService>
