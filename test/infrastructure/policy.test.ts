import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import YAML from 'yaml'
import { COMPOSE_RULES, loadCompose, ROLES, type Compose } from './compose-rules.js'
import { DOCKERFILE_RULES, parseDockerfile, baseImage } from './dockerfile-rules.js'

// The policy over the six Dockerfiles and docker-compose.yml. Every rule must
// hold for the committed files, and each deliberately broken copy must fail
// that rule: a rule that cannot fail proves nothing.
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const PORTS: Record<string, number> = {
  'notification-service': 3000,
  'channel-orchestrator': 3001,
  'email-service': 3002,
  'sms-service': 3003,
  'inapp-service': 3004,
  'push-service': 3005
}
const dockerfile = (role: string) => readFileSync(join(ROOT, 'infrastructure/docker', `Dockerfile.${role}`), 'utf8')
const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')

t.test('Dockerfiles', async (t) => {
  for (const rule of DOCKERFILE_RULES) {
    t.test(`${rule.id}: ${rule.title}`, async (t) => {
      for (const role of ROLES) {
        const port = PORTS[role] ?? 0
        const text = dockerfile(role)
        t.same(rule.check(parseDockerfile(role, port, text)), [], `Dockerfile.${role} passes`)
        for (const b of rule.breaks) {
          const broken = b.mutate(text)
          t.not(broken, text, `${b.what}: the copy differs`)
          const problems = rule.check(parseDockerfile(role, port, broken))
          t.ok(problems.length > 0, `Dockerfile.${role} with ${b.what} fails: ${problems.join('; ')}`)
        }
      }
    })
  }
})

t.test('docker-compose.yml', async (t) => {
  const compose = loadCompose(composeText)
  for (const rule of COMPOSE_RULES) {
    t.test(`${rule.id}: ${rule.title}`, async (t) => {
      t.same(rule.check(compose), [], 'the committed file passes')
      for (const b of rule.breaks) {
        const copy = structuredClone(compose) as Compose
        b.mutate(copy)
        // the broken copy goes through YAML and back, as a file would
        const broken = loadCompose(YAML.stringify(copy))
        t.notSame(broken, compose, `${b.what}: the copy differs`)
        const problems = rule.check(broken)
        t.ok(problems.length > 0, `with ${b.what} it fails: ${problems.join('; ')}`)
      }
    })
  }
})

t.test('compose builds each role with the base image the Dockerfiles pin', async (t) => {
  const compose = loadCompose(composeText)
  const pinned = baseImage(parseDockerfile('notification-service', 3000, dockerfile('notification-service')).df)
  for (const role of ROLES) {
    const arg = String((compose.services[role]?.build as { args?: Record<string, unknown> }).args?.NODE_IMAGE)
    t.equal(arg, `\${NODE_IMAGE:-${pinned}}`, `${role} builds on ${pinned} unless NODE_IMAGE names a mirror`)
  }
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version
  for (const [name, s] of Object.entries(compose.services)) {
    const image = String(s.image)
    if (image.startsWith('notification-system/')) t.match(image, new RegExp(`:\\$\\{IMAGE_TAG:-${version.replace(/\./g, '\\.')}\\}$`), `${name} is tagged with the package version ${version} by default`)
  }
})
