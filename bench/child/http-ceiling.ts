/**
 * The HTTP ceiling: a bare Fastify server with the app's own options and the very route schema of
 * POST /notifications (imported, not copied), answering 202 with a response of the same shape
 * without doing anything else: no key lookup, no database, no queue.
 */
import { randomUUID } from 'node:crypto'
import Fastify from 'fastify'
import { formatValidationError } from '../../src/http/validation.js'
import { Accepted, ErrorBody, IdempotencyHeaders, NotificationBody } from '../../src/modules/notifications/schema.js'

const port = Number(process.argv[2] ?? 0)
const app = Fastify({
  logger: { level: 'warn' },
  bodyLimit: 65536,
  forceCloseConnections: 'idle',
  schemaErrorFormatter: formatValidationError,
  ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } }
})
app.removeContentTypeParser('text/plain')
app.post('/notifications', {
  schema: { headers: IdempotencyHeaders, body: NotificationBody, response: { 202: Accepted, 400: ErrorBody } }
}, async (request, reply) => {
  const body = request.body as { channels: string[] }
  return await reply.code(202).send({
    id: randomUUID(),
    status: 'accepted',
    deliveries: body.channels.map((channel) => ({ id: randomUUID(), channel, status: 'queued' }))
  })
})
app.get('/health', async () => ({ status: 'ok' }))
await app.listen({ port, host: '127.0.0.1' })
process.on('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
