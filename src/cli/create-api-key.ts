import { parseArgs } from 'node:util'
import { loadDatabaseUrl } from '../config.js'
import { createDb } from '../db/client.js'
import { createAuth } from '../modules/auth/index.js'

/** `npm run api-key:create -- --tenant acme [--name ci]`: prints a new key once; only its hash is stored. */
const { values } = parseArgs({ options: { tenant: { type: 'string', default: 'default' }, name: { type: 'string', default: 'default' } } })
const tenant = values.tenant ?? 'default'
if (!/^[A-Za-z0-9_.-]{1,64}$/.test(tenant)) {
  console.error('--tenant must be 1 to 64 letters, digits, ".", "_" or "-"')
  process.exit(1)
}
const { db, pool } = createDb(loadDatabaseUrl(), 1)
try {
  const { key, tenantId } = await createAuth(db).createKey(tenant, values.name)
  console.error(`created an API key for tenant "${tenant}" (${tenantId}); it is shown only this once:`)
  console.log(key)
} finally {
  await pool.end()
}
