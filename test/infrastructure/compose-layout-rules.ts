import { type ComposeRule, CREDENTIAL_URL, INTERNAL_ONLY, ONE_SHOT, PUBLISHED, ROLES, SECRET_NAME, defaults, entries, env, list, longRunning, networksOf, roles, svc } from './compose-model.js'

/** docker-compose.yml rules on how the services are laid out; see compose-rules.ts for the whole policy. */
export const LAYOUT_RULES: ComposeRule[] = [
  {
    id: 'CIS 5.13 / KICS "Container Traffic Not Bound To Host Interface"',
    title: 'every published port names the host address, 127.0.0.1 by default',
    check: (c) => entries(c).flatMap(([n, s]) => list(s.ports).flatMap((p) => {
      const parts = defaults(p).split(':')
      return parts.length === 3 && (parts[0] === '127.0.0.1' || parts[0] === '[::1]') ? [] : [`${n}: port ${defaults(p)} is not bound to 127.0.0.1`]
    })),
    breaks: [
      { what: 'all interfaces implicitly', mutate: (c) => { svc(c, 'notification-service').ports = ['3000:3000'] } },
      { what: '0.0.0.0', mutate: (c) => { svc(c, 'mailpit').ports = ['0.0.0.0:8025:8025'] } }
    ]
  },
  {
    id: 'CIS 5.7 / KICS "Privileged Ports Mapped In Container"',
    title: 'no host port below 1024',
    check: (c) => entries(c).flatMap(([n, s]) => list(s.ports).filter((p) => Number(defaults(p).split(':').at(-2)) < 1024).map((p) => `${n}: ${defaults(p)}`)),
    breaks: [{ what: 'port 80', mutate: (c) => { svc(c, 'notification-service').ports = ['127.0.0.1:80:3000'] } }]
  },
  {
    id: 'CIS 5.8',
    title: 'only the ports users need are published (API 3000, Twilio webhooks 3003, inbox 3004, mailpit 8025)',
    check: (c) => entries(c).flatMap(([n, s]) => {
      const got = list(s.ports).map((p) => Number(defaults(p).split(':').at(-1)))
      const want = PUBLISHED[n] ?? []
      return JSON.stringify(got) === JSON.stringify(want) ? [] : [`${n} publishes ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`]
    }),
    breaks: [
      { what: 'postgres published', mutate: (c) => { svc(c, 'postgres').ports = ['127.0.0.1:5432:5432'] } },
      { what: 'orchestrator published', mutate: (c) => { svc(c, 'channel-orchestrator').ports = ['127.0.0.1:3001:3001'] } }
    ]
  },
  {
    id: 'CIS 4.1 at run time / KICS "Container Running As Root"',
    title: 'every service runs as a non-root numeric uid:gid; the roles as 1000:1000',
    check: (c) => entries(c).flatMap(([n, s]) => {
      const u = String(s.user ?? '')
      if (!/^\d+:\d+$/.test(u)) return [`${n}: user "${u}" is not a numeric uid:gid`]
      if (u.startsWith('0:') || u.endsWith(':0')) return [`${n} runs as root`]
      return (ROLES as readonly string[]).includes(n) || n === 'migrate' ? (u === '1000:1000' ? [] : [`${n}: user ${u}, expected 1000:1000`]) : []
    }),
    breaks: [
      { what: 'no user', mutate: (c) => { delete svc(c, 'email-service').user } },
      { what: 'root postgres', mutate: (c) => { svc(c, 'postgres').user = '0:0' } }
    ]
  },
  {
    id: 'CIS 5.26 / KICS "Healthcheck Not Set"',
    title: 'every long-running service has a health check',
    check: (c) => longRunning(c).flatMap(([n, s]) => {
      const h = s.healthcheck as { test?: unknown, disable?: boolean } | undefined
      return h && h.disable !== true && list(h.test).length > 1 ? [] : [`${n} has no health check`]
    }),
    breaks: [
      { what: 'health check disabled', mutate: (c) => { svc(c, 'email-service').healthcheck = { disable: true } } },
      { what: 'redis without one', mutate: (c) => { delete svc(c, 'redis').healthcheck } }
    ]
  },
  {
    id: 'CIS 5.14 (adapted: unless-stopped or on-failure up to 5)',
    title: 'long-running services restart on their own; the migration does not',
    check: (c) => entries(c).flatMap(([n, s]) => {
      const r = String(s.restart ?? 'no')
      if (ONE_SHOT.includes(n)) return r === 'no' ? [] : [`${n} is one-shot but restart is ${r}`]
      const m = /^on-failure:(\d+)$/.exec(r)
      return r === 'unless-stopped' || (m && Number(m[1]) <= 5) ? [] : [`${n}: restart ${r}`]
    }),
    breaks: [
      { what: 'no restart policy', mutate: (c) => { delete svc(c, 'push-service').restart } },
      { what: 'endless restarts of the migration', mutate: (c) => { svc(c, 'migrate').restart = 'always' } }
    ]
  },
  {
    id: 'design: an init as PID 1',
    title: 'each role runs under docker\'s init, which forwards signals and reaps children',
    check: (c) => roles(c).filter(([, s]) => s.init !== true).map(([n]) => `${n} has no init`),
    breaks: [{ what: 'no init', mutate: (c) => { svc(c, 'inapp-service').init = false } }]
  },
  {
    id: 'design: start order',
    title: 'roles wait for healthy PostgreSQL and Redis and the finished migration; the migration for healthy PostgreSQL',
    check: (c) => {
      const want = { postgres: 'service_healthy', redis: 'service_healthy', migrate: 'service_completed_successfully' }
      const problems = roles(c).flatMap(([n, s]) => Object.entries(want).filter(([dep, cond]) =>
        (s.depends_on as Record<string, { condition?: string }> | undefined)?.[dep]?.condition !== cond).map(([dep, cond]) => `${n} does not wait for ${dep} (${cond})`))
      const m = c.services.migrate?.depends_on as Record<string, { condition?: string }> | undefined
      if (m?.postgres?.condition !== 'service_healthy') problems.push('migrate does not wait for a healthy postgres')
      return problems
    },
    breaks: [
      { what: 'roles start before the migration ends', mutate: (c) => { (svc(c, 'email-service').depends_on as Record<string, unknown>).migrate = { condition: 'service_started' } } },
      { what: 'migration before postgres is ready', mutate: (c) => { svc(c, 'migrate').depends_on = ['postgres'] } }
    ]
  },
  {
    id: 'DL3007, DL3006 / Trivy DS001 / KICS "Image Version Not Explicit"',
    title: 'every image defaults to an exact version, never latest; ours to the package version',
    check: (c) => {
      const problems: string[] = []
      const pins: Record<string, RegExp> = {
        postgres: /^postgres:\d+\.\d+-alpine\d+\.\d+$/,
        redis: /^redis:\d+\.\d+\.\d+-alpine\d+\.\d+$/,
        mailpit: /^axllent\/mailpit:v\d+\.\d+\.\d+$/
      }
      for (const [n, s] of entries(c)) {
        const image = defaults(s.image)
        const own = /^notification-system\/([a-z-]+):(.+)$/.exec(image)
        if (pins[n]) { if (!pins[n].test(image)) problems.push(`${n}: image ${image} is not an exact version`) } else if (!own || own[2] === 'latest' || !/^\d+\.\d+\.\d+/.test(own[2] ?? '')) {
          problems.push(`${n}: image ${image} is not notification-system/<role>:<version>`)
        }
        const arg = (s.build as { args?: Record<string, unknown> } | undefined)?.args?.NODE_IMAGE
        if (arg !== undefined && !/^node:\d+\.\d+\.\d+-alpine\d+\.\d+$/.test(defaults(arg))) problems.push(`${n}: build arg NODE_IMAGE ${defaults(arg)} is not pinned`)
      }
      return problems
    },
    breaks: [
      { what: 'postgres:latest', mutate: (c) => { svc(c, 'postgres').image = '${POSTGRES_IMAGE:-postgres:latest}' } },
      { what: 'untagged redis', mutate: (c) => { svc(c, 'redis').image = 'redis' } },
      { what: 'our image as latest', mutate: (c) => { svc(c, 'sms-service').image = 'notification-system/sms-service:${IMAGE_TAG:-latest}' } }
    ]
  },
  {
    id: 'CIS 4.10 / KICS "Passwords And Secrets - Generic Password"',
    title: 'no secret is written in the file: secret settings and credentials in URLs come from the environment',
    check: (c) => entries(c).flatMap(([n, s]) => Object.entries(env(s)).flatMap(([k, v]) => {
      if (v === null || v === undefined) return []
      const value = String(v)
      const secretName = SECRET_NAME.test(k) && !/^\$\{[A-Z0-9_]+(:\?[^}]*)?\}$/.test(value)
      // a variable stands in for its value: postgres://user:<POSTGRES_PASSWORD>@host is fine
      const cred = CREDENTIAL_URL.exec(value.replace(/\$\{([A-Z0-9_]+)[^}]*\}/g, '<$1>'))
      const secretUrl = cred !== null && !/^<[A-Z0-9_]+>$/.test(cred[1] ?? '')
      return [...(secretName ? [`${n}: ${k} is written in the file`] : []), ...(secretUrl ? [`${n}: ${k} holds a literal password`] : [])]
    })),
    breaks: [
      { what: 'literal database password', mutate: (c) => { (svc(c, 'postgres').environment as Record<string, unknown>).POSTGRES_PASSWORD = 'hunter2' } },
      { what: 'password in a URL', mutate: (c) => { (svc(c, 'migrate').environment as Record<string, unknown>).DATABASE_URL = 'postgres://notifications:hunter2@postgres:5432/notifications' } },
      { what: 'a default for a secret', mutate: (c) => { (svc(c, 'sms-service').environment as Record<string, unknown>).TWILIO_AUTH_TOKEN = '${TWILIO_AUTH_TOKEN:-changeme}' } }
    ]
  },
  {
    id: 'contract: containers',
    title: 'the six roles from their Dockerfiles as notification-system/<role>, a one-shot migration, no top-level name (docker-compose 1.29)',
    check: (c) => {
      const problems: string[] = []
      if ('name' in c) problems.push('top-level name: is refused by docker-compose 1.29')
      for (const role of ROLES) {
        const s = c.services[role]
        if (!s) { problems.push(`no service ${role}`); continue }
        if (!defaults(s.image).startsWith(`notification-system/${role}:`)) problems.push(`${role}: image ${defaults(s.image)}`)
        const b = s.build as { dockerfile?: string, context?: string } | undefined
        if (b?.dockerfile !== `infrastructure/docker/Dockerfile.${role}` || b.context !== '.') problems.push(`${role}: not built from infrastructure/docker/Dockerfile.${role}`)
      }
      const m = c.services.migrate
      if (JSON.stringify(m?.command) !== JSON.stringify(['node', 'dist/db/migrate.js'])) problems.push('migrate does not run node dist/db/migrate.js')
      return problems
    },
    breaks: [
      { what: 'top-level name', mutate: (c) => { c.name = 'notification-system' } },
      { what: 'image renamed', mutate: (c) => { svc(c, 'email-service').image = 'email:0.1.0' } }
    ]
  },
  {
    id: 'CIS 5.29 / design: internal network',
    title: 'every service names its networks; backend is internal; PostgreSQL, Redis, the migration and the orchestrator are on internal networks only',
    check: (c) => {
      const problems: string[] = []
      const internal = (name: string) => (c.networks?.[name] as { internal?: boolean } | null | undefined)?.internal === true
      if (!internal('backend')) problems.push('network backend is not internal')
      for (const [n, s] of entries(c)) {
        const nets = networksOf(s)
        if (nets.length === 0) problems.push(`${n} is on the default network`)
        if (INTERNAL_ONLY.includes(n) && nets.some((x) => !internal(x))) problems.push(`${n} is on a network that reaches out (${nets.join(', ')})`)
      }
      return problems
    },
    breaks: [
      { what: 'postgres reachable from outside', mutate: (c) => { svc(c, 'postgres').networks = ['backend', 'edge'] } },
      { what: 'backend not internal', mutate: (c) => { c.networks = { ...c.networks, backend: {} } } },
      { what: 'default network', mutate: (c) => { delete svc(c, 'redis').networks } }
    ]
  },
  {
    id: 'design: persistence',
    title: 'PostgreSQL and Redis keep their data in named volumes; Redis with append-only persistence',
    check: (c) => {
      const problems: string[] = []
      const named = Object.keys(c.volumes ?? {})
      for (const [n, target] of [['postgres', '/var/lib/postgresql'], ['redis', '/data']] as const) {
        const vols = list(c.services[n]?.volumes).map(String)
        if (!vols.some((v) => named.includes(v.split(':')[0] ?? '') && v.split(':')[1] === target)) problems.push(`${n} keeps no named volume at ${target}`)
      }
      const cmd = list(c.services.redis?.command).map(String).join(' ')
      if (!cmd.includes('--appendonly yes')) problems.push('redis runs without --appendonly yes')
      return problems
    },
    breaks: [
      { what: 'redis without AOF', mutate: (c) => { svc(c, 'redis').command = ['redis-server'] } },
      { what: 'postgres data in the container', mutate: (c) => { delete svc(c, 'postgres').volumes } }
    ]
  }
]
