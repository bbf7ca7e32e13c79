import { spawn } from 'node:child_process'
import pg from 'pg'
import webPush from 'web-push'
import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'
import { ADMIN_URL, REDIS_URL, ROOT, baseEnv, createTestDatabase, spawnRole } from './helper.js'

/** Runs `node <script>` with exactly this environment; resolves with its exit code and output. */
const run = (args: string[], env: Record<string, string>) => new Promise<{ code: number | null, out: string }>((resolve) => {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d) => { out += String(d) })
  child.stderr.on('data', (d) => { out += String(d) })
  const timer = setTimeout(() => child.kill('SIGKILL'), 20000)
  child.on('exit', (code) => { clearTimeout(timer); resolve({ code, out }) })
})

const good = { DATABASE_URL: ADMIN_URL, REDIS_URL }

t.test('a missing or bad setting stops the start, naming the variable', async (t) => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['no SERVICE_ROLE', { ...good }, /SERVICE_ROLE/],
    ['unknown SERVICE_ROLE', { ...good, SERVICE_ROLE: 'fax-service' }, /SERVICE_ROLE "fax-service" is unknown/],
    ['no DATABASE_URL', { SERVICE_ROLE: 'notification-service', REDIS_URL }, /DATABASE_URL/],
    ['a DATABASE_URL that is no postgres URL', { ...good, SERVICE_ROLE: 'channel-orchestrator', DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
    ['no REDIS_URL', { SERVICE_ROLE: 'channel-orchestrator', DATABASE_URL: ADMIN_URL }, /REDIS_URL/],
    ['a PORT out of range', { ...good, SERVICE_ROLE: 'channel-orchestrator', PORT: '70000' }, /PORT/],
    ['email-service without SMTP_URL', { ...good, SERVICE_ROLE: 'email-service', EMAIL_FROM: 'a@b.test' }, /SMTP_URL/],
    ['email-service with an http SMTP_URL', { ...good, SERVICE_ROLE: 'email-service', EMAIL_FROM: 'a@b.test', SMTP_URL: 'http://x:25' }, /SMTP_URL/],
    ['sms-service without TWILIO_AUTH_TOKEN', { ...good, SERVICE_ROLE: 'sms-service', TWILIO_ACCOUNT_SID: 'AC1', TWILIO_FROM: '+15005550006' }, /TWILIO_AUTH_TOKEN/],
    ['push-service without VAPID keys', { ...good, SERVICE_ROLE: 'push-service', VAPID_SUBJECT: 'mailto:a@b.test' }, /VAPID_P(UBLIC|RIVATE)_KEY/],
    ['a BOOTSTRAP_API_KEY too short', { ...good, SERVICE_ROLE: 'notification-service', BOOTSTRAP_API_KEY: 'short' }, /BOOTSTRAP_API_KEY/],
    ['a SHUTDOWN_TIMEOUT_MS that is no number', { ...good, SERVICE_ROLE: 'notification-service', SHUTDOWN_TIMEOUT_MS: 'soon' }, /SHUTDOWN_TIMEOUT_MS/]
  ]
  for (const [name, env, message] of cases) {
    t.throws(() => loadConfig(env), { name: 'ConfigError', message }, `${name}: loadConfig names it`)
    const { code, out } = await run(['dist/main.js'], env)
    t.equal(code, 1, `${name}: the process exits 1`)
    t.match(out, message, `${name}: and says why`)
  }
  t.ok(new ConfigError('x') instanceof Error)
})

t.test('each role needs only its own settings; all mode runs without channel settings', async (t) => {
  t.same(loadConfig({ ...good, SERVICE_ROLE: 'channel-orchestrator' }).roles, ['channel-orchestrator'])
  t.equal(loadConfig({ ...good, SERVICE_ROLE: 'inapp-service' }).PORT, 3004, 'the default port of the role')
  t.equal(loadConfig({ ...good, SERVICE_ROLE: 'all' }).roles.length, 6)
  t.equal(loadConfig({ ...good, SERVICE_ROLE: 'all' }).HOST, '127.0.0.1')
  const sms = { ...good, SERVICE_ROLE: 'sms-service', TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 'token', TWILIO_FROM: '+15005550006' }
  t.equal(loadConfig({ ...sms, TWILIO_STATUS_CALLBACK_URL: '' }).TWILIO_STATUS_CALLBACK_URL, undefined, 'an empty optional setting is unset (as compose passes it)')
  process.env.PORT = '1'
  t.equal(loadConfig({ ...good, SERVICE_ROLE: 'inapp-service' }).PORT, 3004, 'only the environment given is read, not process.env besides')
  delete process.env.PORT
  t.equal(loadConfig({ ...good, SERVICE_ROLE: 'push-service', VAPID_PUBLIC_KEY: 'B'.repeat(87), VAPID_PRIVATE_KEY: 'p'.repeat(43), VAPID_SUBJECT: 'mailto:ops@example.test', PUSH_ALLOW_PRIVATE_ENDPOINTS: 'true' }).PUSH_ALLOW_PRIVATE_ENDPOINTS, true)
})

t.test('npm run migrate applies the migrations and a second run changes nothing', async (t) => {
  const db = await createTestDatabase(t)
  const tables = async () => {
    const c = new pg.Client({ connectionString: db })
    await c.connect()
    try {
      return (await c.query("select table_name from information_schema.tables where table_schema = 'public' order by 1")).rows.map((r) => r.table_name as string)
    } finally { await c.end() }
  }
  const before = await tables()
  t.ok(before.includes('notifications') && before.includes('delivery_attempts'), 'migrated')
  const again = await run(['dist/db/migrate.js'], { DATABASE_URL: db })
  t.equal(again.code, 0, again.out)
  t.same(await tables(), before, 'nothing changed')
  const missing = await run(['dist/db/migrate.js'], {})
  t.equal(missing.code, 1)
  t.match(missing.out, /DATABASE_URL/)
})

t.test('SIGINT and SIGTERM: every role exits 0', async (t) => {
  const db = await createTestDatabase(t)
  const vapid = webPush.generateVAPIDKeys()
  const env = baseEnv(db, { SMTP_URL: 'smtp://127.0.0.1:1', TWILIO_ACCOUNT_SID: 'AC' + '0'.repeat(32), TWILIO_AUTH_TOKEN: 'token', TWILIO_FROM: '+15005550006', VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: 'mailto:ops@example.test' })
  for (const role of ['notification-service', 'channel-orchestrator', 'email-service', 'sms-service', 'inapp-service', 'push-service', 'all']) {
    const p = await spawnRole(t, role, env)
    const health = await fetch(p.url + '/health')
    t.same(await health.json(), { status: 'ok' }, `${role}: healthy`)
    t.equal((await fetch(p.url + '/ready')).status, 200, `${role}: ready`)
    t.match(await (await fetch(p.url + '/metrics')).text(), /# TYPE http_requests_total counter/, `${role}: metrics`)
    t.equal(await p.kill(role === 'all' ? 'SIGINT' : 'SIGTERM'), 0, `${role}: exit 0`)
  }
})
