import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { createServer, type AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { runMigrations } from '../src/db/migrate.js'

export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
export const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const API_KEY = 'test_' + 'k'.repeat(40)

const withDb = (url: string, db: string) => { const u = new URL(url); u.pathname = '/' + db; return u.toString() }

/** A fresh database, migrated, for one test file; dropped at the end. */
export async function createTestDatabase (t: Test): Promise<string> {
  const name = 'ns_test_' + randomBytes(6).toString('hex')
  const admin = new pg.Client({ connectionString: ADMIN_URL })
  await admin.connect()
  await admin.query(`create database ${name}`)
  await admin.end()
  const url = withDb(ADMIN_URL, name)
  await runMigrations(url)
  t.teardown(async () => {
    const c = new pg.Client({ connectionString: ADMIN_URL })
    await c.connect()
    await c.query(`drop database if exists ${name} with (force)`)
    await c.end()
  })
  return url
}

/** The environment a role needs, with a queue prefix of its own so test files never share queues. */
export function baseEnv (databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    QUEUE_PREFIX: 'nstest-' + randomUUID().slice(0, 8),
    BOOTSTRAP_API_KEY: API_KEY,
    LOG_LEVEL: 'warn',
    RETRY_BASE_DELAY_MS: '50',
    OUTBOX_POLL_MS: '200',
    JOB_LOCK_MS: '2000',
    EMAIL_FROM: 'Notifications <noreply@example.test>',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...extra
  }
}

/** The real app, in process, with the roles named (default `all`); closed at the end of the test. */
export async function buildTestApp (t: Test, env: Record<string, string>): Promise<FastifyInstance> {
  const app = await buildApp(loadConfig({ SERVICE_ROLE: 'all', ...env }), { logger: false })
  await app.ready()
  t.teardown(() => app.close())
  return app
}

export interface RoleProcess { child: ChildProcess, port: number, url: string, output: () => string, kill: (signal?: NodeJS.Signals) => Promise<number | null> }

/** A port the kernel just gave out and took back: free unless someone grabs it in the next moment. */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/**
 * Runs a role as its own process from the compiled code, as production does; waits until /health
 * answers. Test files run in parallel, so a port can be taken between choosing and binding it: then
 * the role is started again on another one (unless the test fixed PORT).
 */
export async function spawnRole (t: Test, role: string, env: Record<string, string>): Promise<RoleProcess> {
  for (let tries = 1; ; tries++) {
    try {
      return await spawnOnce(t, role, env, env.PORT ? Number(env.PORT) : await freePort())
    } catch (err) {
      if (env.PORT || tries >= 4 || !String((err as Error).message).includes('EADDRINUSE')) throw err
    }
  }
}

async function spawnOnce (t: Test, role: string, env: Record<string, string>, port: number): Promise<RoleProcess> {
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: ROOT,
    // At least info, so the child's own "started" line says the port is its.
    env: { PATH: process.env.PATH ?? '', ...env, LOG_LEVEL: ['warn', 'error', 'silent', 'fatal'].includes(env.LOG_LEVEL ?? '') ? 'info' : env.LOG_LEVEL ?? 'info', SERVICE_ROLE: role, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let started = false
  child.stdout?.on('data', (d) => { out += String(d); started ||= out.includes('"msg":"started"') })
  child.stderr?.on('data', (d) => { out += String(d) })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    return await exited
  }
  t.teardown(() => kill('SIGKILL'))
  // A test file that crashes skips its teardowns: its children must not outlive it.
  const orphan = () => { child.kill('SIGKILL') }
  process.once('exit', orphan)
  child.once('exit', () => process.off('exit', orphan))
  const url = `http://127.0.0.1:${port}`
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`${role} exited with ${child.exitCode}: ${out}`)
    // Only once this child says it listens: a /health answer before that could come from another test's process.
    if (!started) return false
    const r = await fetch(url + '/health').catch(() => undefined)
    return r?.ok === true
  }, { timeoutMs: 30000, what: `${role} to start` })
  return { child, port, url, output: () => out, kill }
}

/** Polls until fn returns something truthy; fails naming what it waited for. */
export async function waitFor<T> (fn: () => Promise<T | undefined | false> | T | undefined | false, { timeoutMs = 15000, intervalMs = 50, what = 'condition' } = {}): Promise<T> {
  const until = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v) return v
    } catch (err) {
      last = err
      if ((err as Error).message.includes('exited with')) throw err
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? ': ' + String((last as Error).message) : ''}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

export const auth = (key = API_KEY) => ({ authorization: `Bearer ${key}` })

/** Talks to a role over real HTTP. */
export function client (base: string, key = API_KEY) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const r = await fetch(base + path, {
      method,
      headers: { ...auth(key), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body !== undefined ? JSON.stringify(body) : undefined
    })
    const text = await r.text()
    return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : undefined }
  }
  return {
    post: (path: string, body?: unknown, headers?: Record<string, string>) => call('POST', path, body, headers),
    put: (path: string, body?: unknown) => call('PUT', path, body),
    get: (path: string) => call('GET', path)
  }
}
