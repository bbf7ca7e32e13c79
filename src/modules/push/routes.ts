import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { Errors } from '../../errors.js'
import { ErrorBody, RecipientParams, SubscriptionBody, SubscriptionView, UnsubscribeBody, VapidKeyView } from './schema.js'
import type { SubscriptionsService } from './service.js'

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 429: ErrorBody }

/** Needs no credentials: a browser asks for the key before it can subscribe. */
export const vapidKeyRoute: FastifyPluginAsyncTypebox<{ publicKey?: string }> = async (app, { publicKey }) => {
  app.get('/push/vapid-public-key', {
    schema: { response: { 200: VapidKeyView, 503: ErrorBody } }
  }, async () => {
    if (!publicKey) throw new Errors.PushNotConfigured('VAPID_PUBLIC_KEY')
    return { publicKey }
  })
}

export const subscriptionRoutes: FastifyPluginAsyncTypebox<{ service: SubscriptionsService }> = async (app, { service }) => {
  app.post('/recipients/:id/push-subscriptions', {
    schema: { params: RecipientParams, body: SubscriptionBody, response: { 201: SubscriptionView, ...errors } }
  }, async (request, reply) => {
    const view = await service.subscribe(request.tenantId, request.params.id, request.body)
    return await reply.code(201).send(view)
  })

  app.delete('/recipients/:id/push-subscriptions', {
    schema: { params: RecipientParams, body: UnsubscribeBody, response: { 204: Type.Null(), ...errors } }
  }, async (request, reply) => {
    await service.unsubscribe(request.tenantId, request.params.id, request.body.endpoint)
    return await reply.code(204).send(null)
  })
}
