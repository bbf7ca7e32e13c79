import { fileURLToPath } from 'node:url'
import { migrate } from 'drizzle-orm/node-postgres/migrator'
import { loadDatabaseUrl } from '../config.js'
import { createDb } from './client.js'

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url))

/** Applies migrations/ to the database; running it again changes nothing. */
export async function runMigrations (url: string): Promise<void> {
  const { db, pool } = createDb(url, 1)
  try {
    await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER })
  } finally {
    await pool.end()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  Promise.resolve().then(() => runMigrations(loadDatabaseUrl())).then(() => {
    console.log('migrations applied')
  }, (err: Error) => {
    console.error('migration failed:', err.message)
    process.exit(1)
  })
}
