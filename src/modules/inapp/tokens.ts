import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Db } from '../../db/client.js'
import { appSecrets } from '../../db/schema.js'
import { eq } from 'drizzle-orm'

const VERSION = 'it1'
const SECRET_NAME = 'inbox_token_secret'

export interface InboxClaims { tenantId: string, recipientId: string, expiresAt: Date }

/** An inbox token looks like `it1.<payload>.<signature>`; API keys never do. */
export const looksLikeInboxToken = (credential: string): boolean => credential.startsWith(VERSION + '.')

/**
 * The key comes from INBOX_TOKEN_SECRET, or else from the database: the first process to need one
 * inserts a random key and every other reads the same row, so the API that signs and each inapp
 * replica that verifies agree without a setting. It is loaded once, on first use.
 */
export function createSecretSource (db: Db, configured: string | undefined): () => Promise<Buffer> {
  let pending: Promise<Buffer> | undefined
  const load = async (): Promise<Buffer> => {
    if (configured) return Buffer.from(configured, 'utf8')
    await db.insert(appSecrets).values({ name: SECRET_NAME, value: randomBytes(32).toString('base64url') })
      .onConflictDoNothing({ target: appSecrets.name })
    const [row] = await db.select({ value: appSecrets.value }).from(appSecrets).where(eq(appSecrets.name, SECRET_NAME))
    if (!row) throw new Error('the inbox token secret could not be stored')
    return Buffer.from(row.value, 'utf8')
  }
  return async () => {
    // A failed load (database away) is tried again on the next request rather than remembered.
    pending ??= load().catch((err: unknown) => { pending = undefined; throw err })
    return await pending
  }
}

/** HMAC-SHA256 tokens bound to one tenant and one recipient, with an expiry. */
export function createInboxTokens ({ secret, now = () => Date.now() }: { secret: () => Promise<Buffer>, now?: () => number }) {
  const sign = (key: Buffer, body: string) => createHmac('sha256', key).update(`${VERSION}.${body}`).digest()

  return {
    async issue (tenantId: string, recipientId: string, ttlSeconds: number): Promise<{ token: string, expiresAt: Date }> {
      const exp = Math.floor(now() / 1000) + ttlSeconds
      const body = Buffer.from(JSON.stringify({ t: tenantId, r: recipientId, exp })).toString('base64url')
      const sig = sign(await secret(), body).toString('base64url')
      return { token: `${VERSION}.${body}.${sig}`, expiresAt: new Date(exp * 1000) }
    },
    /** The claims of a genuine, unexpired token; undefined for anything else. */
    async verify (token: string): Promise<InboxClaims | undefined> {
      const [version, body, sig, ...rest] = token.split('.')
      if (version !== VERSION || !body || !sig || rest.length > 0) return undefined
      // Compared as text: base64url decoding ignores stray bits, so two spellings could decode alike.
      const expected = Buffer.from(sign(await secret(), body).toString('base64url'))
      const given = Buffer.from(sig)
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
      let claims: unknown
      try {
        claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
      } catch {
        return undefined
      }
      const { t, r, exp } = (claims ?? {}) as Record<string, unknown>
      if (typeof t !== 'string' || typeof r !== 'string' || typeof exp !== 'number') return undefined
      if (exp * 1000 <= now()) return undefined
      return { tenantId: t, recipientId: r, expiresAt: new Date(exp * 1000) }
    }
  }
}
export type InboxTokens = ReturnType<typeof createInboxTokens>
