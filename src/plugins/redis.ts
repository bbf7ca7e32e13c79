import fp from 'fastify-plugin'
import { Redis } from 'ioredis'

/**
 * The producer connection: it fails fast while Redis is away (no offline queue), so the API
 * never waits on a request it cannot enqueue. Workers open their own, patient connections.
 */
export default fp(async function redisPlugin (app) {
  const redis = new Redis(app.config.REDIS_URL, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000)
  })
  redis.on('error', (err) => app.log.debug({ err }, 'redis producer connection error'))
  app.decorate('redis', redis)
  app.addHook('onClose', async () => { redis.disconnect() })
}, { name: 'redis', dependencies: ['config'] })
