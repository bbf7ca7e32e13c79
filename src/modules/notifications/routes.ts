import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Accepted, ErrorBody, IdParams, IdempotencyHeaders, NotificationBody, NotificationView } from './schema.js'
import type { NotificationsService } from './service.js'

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody, 422: ErrorBody, 429: ErrorBody, 503: ErrorBody }

export const notificationsRoutes: FastifyPluginAsyncTypebox<{ service: NotificationsService }> = async (app, { service }) => {
  app.post('/notifications', {
    schema: { headers: IdempotencyHeaders, body: NotificationBody, response: { 202: Accepted, ...errors } }
  }, async (request, reply) => {
    const accepted = await service.accept(request.tenantId, request.body, request.headers['idempotency-key'])
    return reply.code(202).send(accepted)
  })

  app.get('/notifications/:id', {
    schema: { params: IdParams, response: { 200: NotificationView, ...errors } }
  }, async (request) => await service.get(request.tenantId, request.params.id))

  app.post('/notifications/:id/cancel', {
    schema: { params: IdParams, response: { 200: NotificationView, ...errors } }
  }, async (request) => await service.cancel(request.tenantId, request.params.id))
}
