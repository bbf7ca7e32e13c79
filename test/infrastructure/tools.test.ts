import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

// What the real tools say about the files: docker-compose (Debian's 1.29, the
// one that refuses a top-level name:) validates the compose file, shellcheck
// the scripts. Both are installed by infrastructure/docker/ci-setup.sh; a test
// is skipped, saying so, only where the tool is absent.
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0
const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env } })

const demoEnv = () => {
  const r = run(process.execPath, ['infrastructure/docker/demo-env.mjs'])
  if (r.status !== 0) throw new Error(r.stderr)
  return Object.fromEntries(r.stdout.split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]))
}

t.test('demo-env.mjs makes usable secrets and a valid VAPID pair', async (t) => {
  const a = demoEnv()
  const b = demoEnv()
  t.equal(a.COMPOSE_PROJECT_NAME, 'notification-system')
  t.ok((a.BOOTSTRAP_API_KEY ?? '').length >= 32, 'an API key of at least 32 characters')
  t.ok((a.INBOX_TOKEN_SECRET ?? '').length >= 32, 'an inbox token secret of at least 32 characters')
  t.match(a.POSTGRES_PASSWORD, /^[0-9a-f]{48}$/, 'a URL-safe database password')
  t.not(a.POSTGRES_PASSWORD, b.POSTGRES_PASSWORD, 'fresh secrets on every run')
  const pub = Buffer.from(a.VAPID_PUBLIC_KEY ?? '', 'base64url')
  t.equal(pub.length, 65, 'an uncompressed P-256 public key')
  t.equal(pub[0], 4)
  t.equal(Buffer.from(a.VAPID_PRIVATE_KEY ?? '', 'base64url').length, 32, 'a 32-byte private key')
})

t.test('docker-compose config -q accepts docker-compose.yml', { skip: has('docker-compose') ? false : 'docker-compose is not installed (bash infrastructure/docker/ci-setup.sh installs it)' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ns-compose-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const envFile = join(dir, 'demo.env')
  writeFileSync(envFile, Object.entries(demoEnv()).map(([k, v]) => `${k}=${v}`).join('\n') + '\n')

  const ok = run('docker-compose', ['--env-file', envFile, 'config', '-q'])
  t.equal(ok.status, 0, `valid with the demo environment: ${ok.stderr}`)

  const resolved = run('docker-compose', ['--env-file', envFile, 'config'])
  t.match(resolved.stdout, /- 127\.0\.0\.1:3000:3000/, 'the API is published on 127.0.0.1:3000')
  t.notMatch(resolved.stdout, /BOOTSTRAP_API_KEY: ''/, 'an unset optional setting stays unset, not empty')

  // an empty env file: a .env a developer keeps in the repository must not help
  const empty = join(dir, 'empty.env')
  writeFileSync(empty, '')
  const missing = run('docker-compose', ['--env-file', empty, 'config', '-q'])
  t.not(missing.status, 0, 'refused without the secrets')
  t.match(missing.stderr, /POSTGRES_PASSWORD/, 'and the message names the missing variable')

  const named = join(dir, 'docker-compose.yml')
  writeFileSync(named, 'name: notification-system\n' + readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'))
  const refused = run('docker-compose', ['--env-file', envFile, '-f', named, 'config', '-q'])
  t.not(refused.status, 0, 'docker-compose 1.29 refuses a top-level name:')
  t.match(refused.stderr, /'name' does not match/, 'because of the name: key')
})

/** Every shell script we ship: *.sh, and files whose first line names sh or bash. */
function scripts (dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (name === 'reports' || name === 'node_modules') return []
    if (statSync(path).isDirectory()) return scripts(path)
    const head = readFileSync(path, 'utf8').slice(0, 40)
    return name.endsWith('.sh') || /^#!\s*\/(usr\/)?bin\/(env )?(ba)?sh\b/.test(head) ? [path] : []
  })
}

t.test('shellcheck passes on every script', { skip: has('shellcheck') ? false : 'shellcheck is not installed (apt-get install -y shellcheck)' }, async (t) => {
  const files = scripts(join(ROOT, 'infrastructure'))
  t.ok(files.length >= 10, `found the scripts: ${files.map((f) => relative(ROOT, f)).join(', ')}`)
  const r = run('shellcheck', ['-x', ...files])
  t.equal(r.status, 0, r.stdout + r.stderr)

  const dir = mkdtempSync(join(tmpdir(), 'ns-shellcheck-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const bad = join(dir, 'bad.sh')
  writeFileSync(bad, '#!/bin/sh\nrm -rf $1/*\n')
  t.not(run('shellcheck', [bad]).status, 0, 'and it does fail on an unquoted variable')
})
