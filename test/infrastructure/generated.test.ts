import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { ROLES } from './compose-rules.js'

// The six Dockerfiles come from one template (infrastructure/docker/generate.mjs).
// This fails when a committed file is not what the generator makes, and proves
// independently that the six differ only in role, port and health check.
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const DIR = join(ROOT, 'infrastructure/docker')
const PORTS = [3000, 3001, 3002, 3003, 3004, 3005]
const read = (role: string) => readFileSync(join(DIR, `Dockerfile.${role}`), 'utf8')

/** Lines where two Dockerfiles differ other than by their role's name or port. */
export function unexplainedDifferences (a: { role: string, port: number, text: string }, b: { role: string, port: number, text: string }): string[] {
  const al = a.text.split('\n')
  const bl = b.text.split('\n')
  if (al.length !== bl.length) return [`${a.role} has ${al.length} lines, ${b.role} ${bl.length}`]
  const neutral = (line: string, role: string, port: number) => line.split(role).join('<role>').split(String(port)).join('<port>')
  return al.flatMap((line, i) => neutral(line, a.role, a.port) === neutral(bl[i] ?? '', b.role, b.port) ? [] : [`line ${i + 1}: ${line} | ${bl[i]}`])
}

const check = (cwd: string) => spawnSync(process.execPath, [join(cwd, 'generate.mjs'), '--check'], { encoding: 'utf8' })

t.test('the committed Dockerfiles are what generate.mjs makes', async (t) => {
  const r = check(DIR)
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /all six Dockerfiles match/)
})

t.test('generate.mjs --check fails on a hand-edited Dockerfile and names it', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'ns-generate-'))
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
  cpSync(join(DIR, 'generate.mjs'), join(tmp, 'generate.mjs'))
  for (const role of ROLES) cpSync(join(DIR, `Dockerfile.${role}`), join(tmp, `Dockerfile.${role}`))
  t.equal(check(tmp).status, 0, 'an exact copy passes')
  writeFileSync(join(tmp, 'Dockerfile.email-service'), read('email-service').replace('USER 1000:1000', 'USER 0:0'))
  const r = check(tmp)
  t.equal(r.status, 1)
  t.match(r.stderr, /Dockerfile\.email-service/)
  t.notMatch(r.stderr, /Dockerfile\.sms-service/)
})

t.test('the six differ only in role, port and the port the health check asks', async (t) => {
  const base = { role: ROLES[0], port: PORTS[0] ?? 0, text: read(ROLES[0]) }
  ROLES.forEach((role, i) => {
    t.same(unexplainedDifferences(base, { role, port: PORTS[i] ?? 0, text: read(role) }), [], `${role} against ${base.role}`)
  })
  t.match(read('push-service'), /process\.env\.PORT\|\|3005\)\+'\/health'/, 'the health check asks the role\'s own port')
  const drifted = read('sms-service').replace('--max-old-space-size=512', '--max-old-space-size=2048')
  t.equal(unexplainedDifferences(base, { role: 'sms-service', port: 3003, text: drifted }).length, 1, 'a drift in one file is found')
})
