/**
 * The policy for docker-compose.yml: one rule per check, each named by the
 * public rule it implements (CIS Docker Benchmark v1.6.0 §5, KICS's Docker
 * Compose queries, hadolint and Trivy where they carry over) or by the contract
 * and design document. Every rule lists the breakages it must catch; the
 * mutations edit a parsed copy of the file, which is written out as YAML and
 * read back before the rule runs. This file: what a container may do (privileges,
 * capabilities, filesystem, limits, namespaces, mounts); compose-layout-rules.ts:
 * how the services are laid out (ports, users, health, start order, images,
 * secrets, networks, persistence).
 */
import { LAYOUT_RULES } from './compose-layout-rules.js'
import { type ComposeRule, ROLES, SENSITIVE, bytes, entries, limits, list, roles, svc } from './compose-model.js'

export { loadCompose, ROLES, type Compose, type ComposeRule } from './compose-model.js'

const HARDENING_RULES: ComposeRule[] = [
  {
    id: 'CIS 5.4 / KICS "Privileged Containers Enabled"',
    title: 'no service is privileged',
    check: (c) => entries(c).filter(([, s]) => s.privileged === true).map(([n]) => `${n} is privileged`),
    breaks: [{ what: 'email-service privileged', mutate: (c) => { svc(c, 'email-service').privileged = true } }]
  },
  {
    id: 'CIS 5.3 / KICS "Container Capabilities Unrestricted"',
    title: 'every service drops ALL capabilities and adds none (no port from 3000 to 3005 needs NET_BIND_SERVICE)',
    check: (c) => entries(c).flatMap(([n, s]) => [
      ...(list(s.cap_drop).includes('ALL') ? [] : [`${n} does not drop ALL capabilities`]),
      ...(list(s.cap_add).length > 0 ? [`${n} adds ${list(s.cap_add).join(', ')}`] : [])
    ]),
    breaks: [
      { what: "the design document's cap_add NET_BIND_SERVICE", mutate: (c) => { svc(c, 'notification-service').cap_add = ['NET_BIND_SERVICE'] } },
      { what: 'redis keeps its capabilities', mutate: (c) => { delete svc(c, 'redis').cap_drop } }
    ]
  },
  {
    id: 'CIS 5.25 / KICS "No New Privileges Not Set"',
    title: 'every service sets no-new-privileges:true',
    check: (c) => entries(c).filter(([, s]) => !list(s.security_opt).some((o) => /^no-new-privileges(:true)?$/.test(String(o)))).map(([n]) => `${n} lacks no-new-privileges:true`),
    breaks: [{ what: 'postgres without security_opt', mutate: (c) => { delete svc(c, 'postgres').security_opt } }]
  },
  {
    id: 'CIS 5.12 / KICS "Container Root File System Not Read-Only"',
    title: 'every root filesystem is read-only',
    check: (c) => entries(c).filter(([, s]) => s.read_only !== true).map(([n]) => `${n} has a writable root filesystem`),
    breaks: [{ what: 'sms-service writable', mutate: (c) => { svc(c, 'sms-service').read_only = false } }]
  },
  {
    id: 'CIS 5.12 (the one writable place)',
    title: 'each role writes only to a small /tmp tmpfs mounted noexec,nosuid',
    check: (c) => roles(c).flatMap(([n, s]) => {
      const tmp = list(s.tmpfs).map(String).find((t) => t.split(':')[0] === '/tmp')
      if (!tmp) return [`${n} has no /tmp tmpfs`]
      const opts = tmp.split(':')[1]?.split(',') ?? []
      return ['noexec', 'nosuid'].every((o) => opts.includes(o)) && opts.some((o) => o.startsWith('size=')) ? [] : [`${n}: /tmp is ${tmp}, expected noexec,nosuid and a size`]
    }),
    breaks: [
      { what: '/tmp executable', mutate: (c) => { svc(c, 'push-service').tmpfs = ['/tmp:rw,nosuid,size=16m'] } },
      { what: 'no /tmp', mutate: (c) => { delete svc(c, 'inapp-service').tmpfs } }
    ]
  },
  {
    id: 'CIS 5.28 / KICS "Pids Limit Not Set"',
    title: 'every service has a pids limit',
    check: (c) => entries(c).filter(([, s]) => !(Number.isInteger(s.pids_limit) && Number(s.pids_limit) > 0 && Number(s.pids_limit) <= 4096)).map(([n, s]) => `${n}: pids_limit ${String(s.pids_limit)}`),
    breaks: [
      { what: 'no pids limit', mutate: (c) => { delete svc(c, 'inapp-service').pids_limit } },
      { what: 'unlimited pids', mutate: (c) => { svc(c, 'redis').pids_limit = -1 } }
    ]
  },
  {
    id: 'CIS 5.10 / KICS "Memory Not Limited"',
    title: 'every service has a memory limit; a role\'s is above its 512 MiB heap plus 128 MiB',
    check: (c) => entries(c).flatMap(([n, s]) => {
      const mem = bytes(limits(s).memory ?? s.mem_limit)
      if (mem <= 0) return [`${n} has no memory limit`]
      const isRole = (ROLES as readonly string[]).includes(n)
      return isRole && mem < (512 + 128) * 1024 ** 2 ? [`${n}: memory limit ${String(limits(s).memory)} leaves no room above --max-old-space-size=512`] : []
    }),
    breaks: [
      { what: 'no memory limit', mutate: (c) => { delete (svc(c, 'email-service').deploy as { resources: { limits: Record<string, unknown> } }).resources.limits.memory } },
      { what: 'limit equal to the heap', mutate: (c) => { (svc(c, 'sms-service').deploy as { resources: { limits: Record<string, unknown> } }).resources.limits.memory = '512M' } }
    ]
  },
  {
    id: 'CIS 5.11 / KICS "Cpus Not Limited"',
    title: 'every service has a CPU limit',
    check: (c) => entries(c).filter(([, s]) => !(Number(limits(s).cpus ?? s.cpus) > 0)).map(([n]) => `${n} has no CPU limit`),
    breaks: [{ what: 'no CPU limit', mutate: (c) => { delete (svc(c, 'postgres').deploy as { resources: { limits: Record<string, unknown> } }).resources.limits.cpus } }]
  },
  {
    id: 'CIS 5.9, 5.15, 5.16, 5.20, 5.30 / KICS "Host Namespace is Shared"',
    title: 'no service shares the host\'s network, pid, ipc, uts or user namespace',
    check: (c) => entries(c).flatMap(([n, s]) => ['network_mode', 'pid', 'ipc', 'uts', 'userns_mode']
      .filter((k) => String(s[k] ?? '') === 'host').map((k) => `${n}: ${k}: host`)),
    breaks: [
      { what: 'host network', mutate: (c) => { svc(c, 'notification-service').network_mode = 'host' } },
      { what: 'host pid namespace', mutate: (c) => { svc(c, 'channel-orchestrator').pid = 'host' } }
    ]
  },
  {
    id: 'CIS 5.31, 5.5 / KICS "Docker Socket Mounted In Container", "Volume Has Sensitive Host Directory"',
    title: 'no docker socket and no host directory is mounted: named volumes only',
    check: (c) => entries(c).flatMap(([n, s]) => list(s.volumes).flatMap((v) => {
      const source = typeof v === 'string' ? v.split(':')[0] ?? '' : String((v as { source?: string }).source ?? '')
      if (SENSITIVE.test(source)) return [`${n} mounts ${source}`]
      return /^[./~]/.test(source) ? [`${n} bind-mounts ${source} (use a named volume)`] : []
    })),
    breaks: [
      { what: 'docker socket', mutate: (c) => { svc(c, 'channel-orchestrator').volumes = ['/var/run/docker.sock:/var/run/docker.sock'] } },
      { what: 'host /etc', mutate: (c) => { svc(c, 'redis').volumes = ['/etc:/host-etc:ro'] } }
    ]
  }
]

export const COMPOSE_RULES: ComposeRule[] = [...HARDENING_RULES, ...LAYOUT_RULES]
