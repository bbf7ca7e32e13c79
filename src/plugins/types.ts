import type pg from 'pg'
import type { Redis } from 'ioredis'
import type { Config } from '../config.js'
import type { Db } from '../db/client.js'
import type { Metrics } from './metrics.js'
import type { Queues } from './queues.js'

// What every role's Fastify instance carries.
declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    db: Db
    pool: pg.Pool
    redis: Redis
    queues: Queues
    metrics: Metrics
  }
}
export {}
