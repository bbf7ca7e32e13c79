import Fastify, { type FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from './config.js'
import db from './plugins/db.js'
import errorHandler from './plugins/error-handler.js'
import health from './plugins/health.js'
import metrics from './plugins/metrics.js'
import queues from './plugins/queues.js'
import redis from './plugins/redis.js'
import './plugins/types.js'
import { formatValidationError } from './http/validation.js'
import { registerRoles } from './roles/index.js'

// Inbox tokens may ride in the query string (EventSource cannot set headers): keep them out of logs.
const redactedRequest = (req: { method?: string, url?: string, ip?: string, host?: string, socket?: { remotePort?: number } }) => ({
  method: req.method,
  url: req.url?.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]'),
  host: req.host,
  remoteAddress: req.ip,
  remotePort: req.socket?.remotePort
})

/** Builds the app for the roles in config: the shared plugins, then what each role runs. */
export async function buildApp (config: Config, opts: { logger?: boolean } = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger === false ? false : { level: config.LOG_LEVEL, serializers: { req: redactedRequest } },
    bodyLimit: config.BODY_LIMIT_BYTES,
    forceCloseConnections: 'idle',
    // Room for a 255-character recipient id in a path, percent-encoded (the default of 100 gave 414).
    routerOptions: { maxParamLength: 3072 },
    schemaErrorFormatter: formatValidationError,
    ajv: {
      // A wrong type is an error, not something to coerce; an unknown field is an error, not something to drop.
      customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false }
    }
  })
  await app.register(fp(async (a) => { a.decorate('config', config) }, { name: 'config' }))
  // The API speaks JSON: a text body gets 415, not a confusing "body must be object".
  app.removeContentTypeParser('text/plain')
  await app.register(errorHandler)
  await app.register(db)
  await app.register(redis)
  await app.register(queues)
  await app.register(metrics)
  await app.register(health)
  await registerRoles(app, config.roles)
  return app
}
