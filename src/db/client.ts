import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { isDatabaseUnreachable } from './errors.js'
import * as schema from './schema.js'

export type Db = NodePgDatabase<typeof schema>

export function createDb (url: string, max = 10): { db: Db, pool: pg.Pool } {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5000 })
  // A dropped connection must not crash the process: idle ones report on the pool, checked-out ones
  // (between the queries of a transaction) on the client; the query in flight rejects either way.
  pool.on('error', () => {})
  pool.on('connect', (client) => { client.on('error', () => {}) })
  const db = drizzle(pool, { schema })

  // drizzle-orm 0.45's pool transaction runs BEGIN outside its try/finally, so a BEGIN that fails
  // (the database went away) never releases its client: a few outages exhaust the pool for good.
  // Here the client is ours: released whatever happens, and destroyed when its connection broke.
  const onClient = new WeakMap<pg.PoolClient, Db>()
  db.transaction = async (fn, config) => {
    const client = await pool.connect()
    let broken: Error | undefined
    try {
      let txDb = onClient.get(client)
      if (!txDb) onClient.set(client, txDb = drizzle(client, { schema }))
      return await txDb.transaction(fn, config)
    } catch (err) {
      if (isDatabaseUnreachable(err)) broken = err as Error
      throw err
    } finally {
      client.release(broken)
    }
  }
  return { db, pool }
}
