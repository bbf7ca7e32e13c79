import type { Db } from '../../db/client.js'
import { createAuthRepository } from './repository.js'
import { createAuthService } from './service.js'

export { apiKeyAuth, bearer } from './hook.js'
export type { AuthService } from './service.js'

export const createAuth = (db: Db) => createAuthService({ repo: createAuthRepository(db) })
