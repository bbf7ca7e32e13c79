import fp from 'fastify-plugin'
import { createDb } from '../db/client.js'

export default fp(async function dbPlugin (app) {
  const { db, pool } = createDb(app.config.DATABASE_URL, app.config.DATABASE_POOL_SIZE)
  app.decorate('db', db)
  app.decorate('pool', pool)
  app.addHook('onClose', async () => { await pool.end() })
}, { name: 'db', dependencies: ['config'] })
