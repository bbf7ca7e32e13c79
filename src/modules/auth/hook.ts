import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Errors } from '../../errors.js'
import type { AuthService } from './service.js'

declare module 'fastify' {
  interface FastifyRequest { tenantId: string }
}

export const bearer = (request: FastifyRequest): string | undefined => {
  const header = request.headers.authorization
  if (!header?.startsWith('Bearer ')) return undefined
  return header.slice(7).trim() || undefined
}

/** Requires a tenant's API key on every route of the scope it is registered in. */
export const apiKeyAuth = fp<{ auth: AuthService }>(async function apiKeyAuth (app, { auth }) {
  app.decorateRequest('tenantId', '')
  app.addHook('onRequest', async (request) => {
    const key = bearer(request)
    const tenantId = key ? await auth.tenantForKey(key) : undefined
    if (!tenantId) throw new Errors.Unauthorized()
    request.tenantId = tenantId
  })
}, { name: 'api-key-auth' })
