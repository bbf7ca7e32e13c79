import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import * as schema from './schema.js'

export type Db = NodePgDatabase<typeof schema>

export function createDb (url: string, max = 10): { db: Db, pool: pg.Pool } {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5000 })
  // A dropped idle connection must not crash the process; the pool replaces it.
  pool.on('error', () => {})
  return { db: drizzle(pool, { schema }), pool }
}
