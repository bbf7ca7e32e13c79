import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { ROLES } from './compose-rules.js'

// The real proof, on a real Docker engine (npm run test:containers; not part of
// npm test, it needs root and dockerd: bash infrastructure/docker/ci-setup.sh).
// No registry is reachable here, so infrastructure/docker/offline/build.sh makes
// stand-ins for the official node, postgres, redis and mailpit images first.
// Then the six images are built from the committed Dockerfiles (only build
// arguments change), the committed docker-compose.yml is brought up with them
// (only image names and host ports change, through variables), and the design
// document's validation checklist is checked on the running containers, down to
// a notification posted to the published API arriving as an email in mailpit.
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const PORTS: Record<string, number> = { 'notification-service': 3000, 'channel-orchestrator': 3001, 'email-service': 3002, 'sms-service': 3003, 'inapp-service': 3004, 'push-service': 3005 }
const OTHERS = ['postgres', 'redis', 'mailpit']
const PROJECT = `nsct${process.pid}`
// a tag of its own, so images built on the Debian stand-in are never taken for the real ones
const TAG = 'offline-test'

type Run = SpawnSyncReturns<string>
function run (cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 20 * 60_000): Run {
  return spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs, env: { ...process.env, DOCKER_BUILDKIT: '0', ...env } })
}
const must = (r: Run, what: string): string => {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status ?? r.signal}):\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`)
  return r.stdout
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const freePort = (preferred: number) => new Promise<number>((resolve) => {
  const probe = (port: number) => {
    const s = createServer()
    s.once('error', () => probe(0))
    s.listen(port, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => resolve(p))
    })
  }
  probe(preferred)
})
const inspect = (id: string) => (JSON.parse(must(run('docker', ['inspect', id]), `docker inspect ${id}`)) as Array<Record<string, any>>)[0] ?? {}
const exec = (id: string, script: string) => run('docker', ['exec', id, 'sh', '-c', script], {}, 60_000)

t.test('six hardened images built offline, run with the committed compose file, deliver an email', async (t) => {
  const info = run('docker', ['info', '--format', '{{.ServerVersion}}'])
  if (info.status !== 0) throw new Error('no Docker engine answers: run bash infrastructure/docker/ci-setup.sh (as root) first\n' + info.stderr)
  t.comment(`Docker engine ${info.stdout.trim()}`)

  // 1. the offline stand-ins for the images no registry can give us here
  const offline = Object.fromEntries(must(run('bash', ['infrastructure/docker/offline/build.sh', 'all']), 'offline/build.sh')
    .split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]))
  t.match(offline, { NODE_IMAGE: /\S/, APK_UPGRADE: 'false', POSTGRES_IMAGE: /\S/, REDIS_IMAGE: /\S/, MAILPIT_IMAGE: /\S/ }, 'stand-in images are ready')
  const base = run('docker', ['run', '--rm', offline.NODE_IMAGE ?? '', 'sh', '-c', 'node --version; id node'])
  const pinned = /^ARG NODE_IMAGE=node:(\d+\.\d+\.\d+)-alpine/m.exec(must(run('cat', ['infrastructure/docker/Dockerfile.email-service']), 'cat'))?.[1]
  t.equal(base.stdout.split('\n')[0], `v${pinned}`, `the stand-in runs the Node the Dockerfiles pin (${pinned})`)
  t.match(base.stdout, /uid=1000\(node\) gid=1000\(node\)/, 'and has the official image\'s node user, uid 1000')

  // 2. the six images, from the committed Dockerfiles, through the scan script's build
  const reports = mkdtempSync(join(tmpdir(), 'ns-containers-'))
  t.teardown(() => rmSync(reports, { recursive: true, force: true }))
  const built = must(run('bash', ['infrastructure/docker/security-scan.sh', 'build'], {
    NODE_IMAGE: offline.NODE_IMAGE, APK_UPGRADE: 'false', IMAGE_TAG: TAG, REPORT_DIR: reports
  }), 'security-scan.sh build')
  const context = /Sending build context to Docker daemon\s+([\d.]+\s*[kMG]?B)/.exec(built)?.[1]
  t.ok(context, `build context: ${context}`)
  t.ok(/kB$/.test(context ?? '') || /^[0-4](\.\d+)?MB$/.test(context ?? ''), 'the context stays small (.dockerignore is an allow-list)')
  for (const role of ROLES) {
    const img = inspect(`notification-system/${role}:${TAG}`)
    const cfg = img.Config as Record<string, any>
    t.equal(cfg.User, '1000:1000', `${role}: USER 1000:1000`)
    t.same(cfg.Cmd, ['node', 'dist/main.js'], `${role}: CMD node dist/main.js`)
    t.notOk(cfg.Entrypoint, `${role}: no entrypoint script`)
    t.equal(cfg.Healthcheck?.Test?.[0], 'CMD', `${role}: exec-form HEALTHCHECK`)
    t.ok(cfg.ExposedPorts?.[`${PORTS[role]}/tcp`], `${role}: EXPOSE ${PORTS[role]}`)
    t.ok((cfg.Env as string[]).includes(`SERVICE_ROLE=${role}`), `${role}: SERVICE_ROLE=${role}`)
    t.comment(`image notification-system/${role}:${TAG}: ${(Number(img.Size) / 1e6).toFixed(1)} MB`)
  }

  // 3. the committed compose file, with the stand-ins named by variables
  const envFile = join(reports, 'demo.env')
  const demo = must(run(process.execPath, ['infrastructure/docker/demo-env.mjs']), 'demo-env.mjs')
  writeFileSync(envFile, demo)
  const apiKey = /^BOOTSTRAP_API_KEY=(.*)$/m.exec(demo)?.[1] ?? ''
  const ports = { API_PORT: await freePort(3000), SMS_WEBHOOK_PORT: await freePort(3003), INBOX_PORT: await freePort(3004), MAILPIT_PORT: await freePort(8025) }
  t.comment(`host ports: ${JSON.stringify(ports)}`)
  const composeEnv = {
    IMAGE_TAG: TAG,
    POSTGRES_IMAGE: offline.POSTGRES_IMAGE,
    REDIS_IMAGE: offline.REDIS_IMAGE,
    MAILPIT_IMAGE: offline.MAILPIT_IMAGE,
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)]))
  }
  const compose = (...args: string[]) => run('docker-compose', ['-p', PROJECT, '--env-file', envFile, ...args], composeEnv, 5 * 60_000)
  t.teardown(() => { compose('down', '-v', '--remove-orphans', '-t', '20') })
  must(compose('config', '-q'), 'docker-compose config -q')
  must(compose('up', '-d', '--no-build'), 'docker-compose up -d')
  // container ids, looked up once: a restarted container keeps its id
  const ids = new Map<string, string>()
  const id = (service: string) => {
    if (!ids.has(service)) ids.set(service, must(compose('ps', '-q', service), `ps ${service}`).trim())
    return ids.get(service) ?? ''
  }

  // 4. every long-running container turns healthy; the migration ran once and exited 0
  const services = [...ROLES, ...OTHERS]
  let states: Record<string, string> = {}
  for (let i = 0; i < 120; i++) {
    states = Object.fromEntries(services.map((s) => [s, String(inspect(id(s)).State?.Health?.Status ?? 'none')]))
    if (Object.values(states).every((s) => s === 'healthy')) break
    if (Object.values(states).includes('unhealthy')) break
    await sleep(2000)
  }
  if (!Object.values(states).every((s) => s === 'healthy')) t.comment(compose('logs', '--tail', '40').stdout)
  for (const s of services) t.equal(states[s], 'healthy', `${s} is healthy`)
  const migrate = inspect(id('migrate'))
  t.equal(migrate.State?.Status, 'exited', 'the migration has finished')
  t.equal(migrate.State?.ExitCode, 0, 'with exit code 0')
  const again = compose('run', '--rm', '-T', '--no-deps', 'migrate')
  t.equal(again.status, 0, 'running the migration again exits 0')
  t.match(again.stdout, /migrations applied/, 'and changes nothing')

  // 5. the design document's checklist, container by container
  for (const role of ROLES) {
    const c = id(role)
    t.equal(exec(c, 'whoami').stdout.trim(), 'nodeapp', `${role}: whoami is nodeapp`)
    t.match(exec(c, 'id').stdout, /^uid=1000\(nodeapp\) gid=1000\(nodeapp\)/, `${role}: id is uid=1000(nodeapp) gid=1000(nodeapp)`)
    t.equal(exec(c, 'grep -c "^node:" /etc/passwd').stdout.trim(), '0', `${role}: the base image's node user is gone`)
    t.equal(exec(c, 'node --version').stdout.trim(), `v${pinned}`, `${role}: Node ${pinned}`)
    t.not(exec(c, 'command -v npm').status, 0, `${role}: no npm at run time`)
    t.equal(exec(c, 'find /app \\( -type f -o -type d \\) \\( ! -user 0 -o -perm -o+w -o -perm -g+w \\) | head -n 3').stdout, '', `${role}: /app is root-owned and writable by nobody else`)
    const tmp = exec(c, 'echo ok > /tmp/probe && cat /tmp/probe && rm /tmp/probe')
    t.equal(tmp.stdout.trim(), 'ok', `${role}: /tmp is writable`)
    t.match(exec(c, 'grep " /tmp " /proc/mounts').stdout, /tmpfs \/tmp tmpfs \S*nosuid\S*noexec/, `${role}: /tmp is a nosuid,noexec tmpfs`)
    t.equal(exec(c, 'cat /proc/mounts | grep " / " | grep -c "[ ,]ro[ ,]"').stdout.trim(), '1', `${role}: / is mounted read-only`)
    // docker itself adds the mount point of its init (init: true); nothing else may appear
    const diff = must(run('docker', ['diff', c]), 'docker diff').split('\n')
      .filter((l) => l !== '' && !/^[AC] (\/usr)?(\/sbin(\/docker-init)?)?$/.test(l))
    t.same(diff, [], `${role}: nothing written to the container's filesystem (docker diff shows only docker's init)`)
  }
  for (const s of services) {
    const c = id(s)
    const root = exec(c, 'touch /probe-write')
    t.not(root.status, 0, `${s}: a write to / fails`)
    t.match(root.stderr, /Read-only file system/, `${s}: because the root filesystem is read-only`)
    const status = exec(c, 'cat /proc/1/status').stdout
    for (const cap of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) t.match(status, new RegExp(`${cap}:\\s+0{16}`), `${s}: ${cap} 0 (no capability at all)`)
    t.match(status, /NoNewPrivs:\s+1/, `${s}: NoNewPrivs 1`)
    const h = inspect(c).HostConfig as Record<string, any>
    t.ok((h.SecurityOpt as string[] | null)?.includes('no-new-privileges:true'), `${s}: SecurityOpt holds no-new-privileges:true`)
    t.same(h.CapDrop, ['ALL'], `${s}: CapDrop ALL`)
    t.notOk(h.CapAdd, `${s}: CapAdd is empty`)
    t.equal(h.ReadonlyRootfs, true, `${s}: ReadonlyRootfs`)
    t.equal(h.Privileged, false, `${s}: not privileged`)
    t.ok(h.PidsLimit > 0, `${s}: PidsLimit ${h.PidsLimit}`)
    t.ok(h.Memory > 0, `${s}: memory limit ${h.Memory}`)
    t.ok(h.NanoCpus > 0, `${s}: CPU limit ${h.NanoCpus}`)
    t.notMatch(JSON.stringify(h.Binds ?? []), /docker\.sock/, `${s}: no docker socket`)
    t.not(h.NetworkMode, 'host', `${s}: not on the host network`)
    for (const bindings of Object.values((h.PortBindings ?? {}) as Record<string, Array<{ HostIp: string }>>)) {
      for (const b of bindings) t.equal(b.HostIp, '127.0.0.1', `${s}: published on 127.0.0.1 only`)
    }
  }
  for (const role of ROLES) t.equal((inspect(id(role)).HostConfig as Record<string, any>).Init, true, `${role}: docker's init is PID 1`)

  // 6. traffic stays among the project's containers and 127.0.0.1
  const net = (JSON.parse(must(run('docker', ['network', 'inspect', `${PROJECT}_backend`]), 'network inspect')) as Array<{ Internal: boolean }>)[0]
  t.equal(net?.Internal, true, 'the backend network is internal (no route out)')
  for (const s of ['postgres', 'redis', 'channel-orchestrator']) {
    const nets = Object.keys((inspect(id(s)).NetworkSettings?.Networks ?? {}) as object)
    t.same(nets, [`${PROJECT}_backend`], `${s} is on the internal network only`)
  }

  // 7. a notification posted to the published API ends as an email in mailpit
  const api = `http://127.0.0.1:${ports.API_PORT}`
  t.equal((await fetch(`${api}/ready`)).status, 200, 'the API is ready (PostgreSQL and Redis answer)')
  const subject = `Hello from the containers ${process.pid}`
  const res = await fetch(`${api}/notifications`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ recipient: { id: 'ada', email: 'ada@example.com' }, channels: ['email'], content: { subject, text: 'Sent through six containers' } })
  })
  const accepted = await res.json() as { id: string }
  t.equal(res.status, 202, `accepted: ${JSON.stringify(accepted)}`)
  let done: { status?: string, deliveries?: Array<{ status: string }> } = {}
  for (let i = 0; i < 60 && done.status !== 'completed' && done.status !== 'failed'; i++) {
    await sleep(500)
    done = await (await fetch(`${api}/notifications/${accepted.id}`, { headers: { authorization: `Bearer ${apiKey}` } })).json() as typeof done
  }
  t.equal(done.status, 'completed', `the notification completed: ${JSON.stringify(done)}`)
  t.equal(done.deliveries?.[0]?.status, 'sent', 'its email delivery was sent')
  const mp = `http://127.0.0.1:${ports.MAILPIT_PORT}`
  const list = await (await fetch(`${mp}/api/v1/messages`)).json() as { messages: Array<{ ID: string, Subject: string, To: Array<{ Address: string }> }> }
  const mail = list.messages.find((m) => m.Subject === subject)
  t.ok(mail, 'mailpit received it')
  t.same(mail?.To.map((x) => x.Address), ['ada@example.com'], 'addressed to the recipient')
  const full = await (await fetch(`${mp}/api/v1/message/${mail?.ID ?? ''}`)).json() as { Text: string, From: { Address: string } }
  t.equal(full.Text.trim(), 'Sent through six containers', 'with the text that was posted')
  t.equal(full.From.Address, 'notifications@example.com', 'from EMAIL_FROM')

  // 8. a graceful stop, then nothing left behind
  must(compose('stop', '-t', '20'), 'docker-compose stop')
  for (const role of ROLES) t.equal(inspect(id(role)).State?.ExitCode, 0, `${role} stopped on SIGTERM with exit code 0`)
  must(compose('down', '-v', '--remove-orphans'), 'docker-compose down')
  const label = `label=com.docker.compose.project=${PROJECT}`
  t.equal(must(run('docker', ['ps', '-aq', '--filter', label]), 'ps').trim(), '', 'docker-compose down leaves no container')
  t.equal(must(run('docker', ['network', 'ls', '-q', '--filter', label]), 'network ls').trim(), '', 'no network')
  t.equal(must(run('docker', ['volume', 'ls', '-q', '--filter', label]), 'volume ls').trim(), '', 'and no volume')
})

t.test('security-scan.sh scan: says which scanners it skipped, writes an SBOM per image, and gates', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ns-scan-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const scan = (env: NodeJS.ProcessEnv) => run('bash', ['infrastructure/docker/security-scan.sh', 'scan'], { SKIP_BUILD: '1', IMAGE_TAG: TAG, REPORT_DIR: join(dir, 'reports'), ...env })

  // this machine has neither Trivy nor Docker Scout: the script must say so, not pass quietly
  const none = scan({})
  t.equal(none.status, 0, `no finding, no gate crossed: ${none.stderr}`)
  t.match(none.stdout, /skipped: trivy not installed/, 'it says Trivy was skipped')
  t.match(none.stdout, /skipped: docker scout not installed/, 'it says Docker Scout was skipped')
  t.match(none.stdout, /WARNING: no vulnerability scanner ran, so the images were NOT scanned/, 'and that nothing was scanned')
  for (const role of ROLES) {
    const bom = JSON.parse(must(run('cat', [join(dir, 'reports', `sbom-${role}.cdx.json`)]), 'cat sbom')) as { bomFormat: string, components: Array<{ name: string }>, metadata: { properties: Array<{ name: string, value: string }> } }
    t.equal(bom.bomFormat, 'CycloneDX', `${role}: a CycloneDX SBOM`)
    t.ok(bom.components.some((c) => c.name === 'fastify'), `${role}: listing the production dependencies`)
    t.notOk(bom.components.some((c) => c.name === 'typescript'), `${role}: and no dev dependency`)
    t.ok(bom.metadata.properties.some((p) => p.value === `notification-system/${role}:${TAG}`), `${role}: naming its image`)
  }
  t.equal(scan({ REQUIRE_SCANNER: '1' }).status, 3, 'REQUIRE_SCANNER=1 turns "nothing scanned" into a failure')

  // the gate, with a scanner that reports a HIGH finding (a test double of trivy's CLI:
  // real Trivy cannot run here, it needs its vulnerability database from the network)
  const bin = join(dir, 'bin')
  must(run('mkdir', ['-p', bin]), 'mkdir')
  writeFileSync(join(bin, 'trivy'), [
    '#!/bin/sh',
    'case "$*" in *--version*) echo "Version: test-double"; exit 0 ;; esac',
    'prev=""; for a in "$@"; do if [ "$prev" = "--output" ]; then echo "{}" > "$a"; fi; prev="$a"; done',
    'case "$*" in *"--exit-code 1"*) echo "libfoo CVE-2099-0001 HIGH"; exit 1 ;; esac',
    'exit 0', ''
  ].join('\n'), { mode: 0o755 })
  const gated = scan({ PATH: `${bin}:${process.env.PATH ?? ''}` })
  t.equal(gated.status, 1, 'a HIGH finding crosses the gate: exit 1')
  t.match(gated.stdout, /FAIL trivy: HIGH,CRITICAL vulnerabilities in notification-system\/email-service/, 'naming the image')
  t.match(gated.stdout, /gate crossed/, 'and saying so')
  t.match(must(run('cat', [join(dir, 'reports', 'summary.txt')]), 'summary'), /FAIL trivy/, 'the summary report records it')
})
