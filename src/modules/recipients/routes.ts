import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ErrorBody, Preferences, RecipientBody, RecipientParams, RecipientView } from './schema.js'
import type { RecipientsService } from './service.js'

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 429: ErrorBody }
const StoredPreferences = Type.Object({
  channels: Type.Record(Type.String(), Type.Boolean()),
  categories: Type.Record(Type.String(), Type.Record(Type.String(), Type.Boolean()))
})

export const recipientsRoutes: FastifyPluginAsyncTypebox<{ service: RecipientsService }> = async (app, { service }) => {
  app.put('/recipients/:id', {
    schema: { params: RecipientParams, body: RecipientBody, response: { 200: RecipientView, ...errors } }
  }, async (request) => await service.put(request.tenantId, request.params.id, request.body))

  app.get('/recipients/:id', {
    schema: { params: RecipientParams, response: { 200: RecipientView, ...errors } }
  }, async (request) => await service.get(request.tenantId, request.params.id))

  app.put('/recipients/:id/preferences', {
    schema: { params: RecipientParams, body: Preferences, response: { 200: StoredPreferences, ...errors } }
  }, async (request) => await service.setPreferences(request.tenantId, request.params.id, request.body))
}
