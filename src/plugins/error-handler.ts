import type { FastifyError } from 'fastify'
import fp from 'fastify-plugin'
import { STATUS_CODES } from 'node:http'
import { isDatabaseUnreachable } from '../db/errors.js'

/** Expected failures keep their code and message; anything else is logged and answered generically. */
export default fp(async function errorHandlerPlugin (app) {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (isDatabaseUnreachable(err)) {
      // Nothing was committed: the client may retry. Never a 202 for something that was not stored.
      request.log.warn({ err: { message: err.message, code: err.code } }, 'database unreachable')
      return reply.code(503).header('retry-after', '5').send({
        statusCode: 503, code: 'UNAVAILABLE', error: 'Service Unavailable', message: 'The database is unreachable: nothing was stored; retry later'
      })
    }
    const statusCode = err.statusCode !== undefined && err.statusCode >= 400 ? err.statusCode : 500
    if (statusCode >= 500 && statusCode !== 503) {
      request.log.error({ err, route: request.routeOptions.url }, 'request failed')
      return reply.code(500).send({ statusCode: 500, code: 'INTERNAL', error: 'Internal Server Error', message: 'Something went wrong; it was logged' })
    }
    if (statusCode === 503) request.log.warn({ err }, 'unavailable')
    const headers = (err as { headers?: Record<string, string> }).headers
    if (headers) reply.headers(headers)
    const message = err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
      ? `Content-Type ${request.headers['content-type'] ?? '(none)'} is not accepted: send application/json`
      : err.message
    return reply.code(statusCode).send({ statusCode, code: err.code ?? 'ERROR', error: STATUS_CODES[statusCode] ?? 'Error', message })
  })
  app.setNotFoundHandler((request, reply) => reply.code(404).send({
    statusCode: 404, code: 'NOT_FOUND', error: 'Not Found', message: `Route ${request.method} ${request.url.split('?')[0]} not found`
  }))
}, { name: 'error-handler' })
