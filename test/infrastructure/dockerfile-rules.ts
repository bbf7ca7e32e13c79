import { DockerfileParser, type Copy, type Dockerfile, type Instruction } from 'dockerfile-ast'

/**
 * The policy for the six Dockerfiles: one rule per check, each named by the
 * public rule it implements (hadolint DL…, Trivy DS…, CIS Docker Benchmark
 * v1.6.0 §4, KICS) or, where none exists, by the design document. Each rule
 * carries the mutations that must break it: policy.test.ts proves every rule
 * passes on the committed files and fails on each broken copy.
 */
export interface DockerfileFacts { role: string, port: number, text: string, df: Dockerfile }

export interface Mutation { what: string, mutate: (text: string) => string }

export interface DockerfileRule {
  id: string
  title: string
  check: (f: DockerfileFacts) => string[]
  breaks: Mutation[]
}

/** Supported Node LTS lines and Alpine branches, with the day support ends. */
export const NODE_LTS_EOL: Record<number, string> = { 24: '2028-04-30', 26: '2029-04-30' }
export const ALPINE_EOL: Record<string, string> = { '3.22': '2027-05-01', '3.23': '2027-11-01', '3.24': '2028-05-01' }

export function parseDockerfile (role: string, port: number, text: string): DockerfileFacts {
  return { role, port, text, df: DockerfileParser.parse(text) }
}

/** Replaces one exact piece of text; throws when it is not there, so a mutation never silently does nothing. */
export function replaceOnce (text: string, from: string | RegExp, to: string): string {
  const out = text.replace(from, to)
  if (out === text) throw new Error(`mutation found nothing to change: ${String(from)}`)
  return out
}

/** Instructions of the final stage (after the last FROM). */
export function finalStage (df: Dockerfile): Instruction[] {
  const all = df.getInstructions()
  let last = 0
  all.forEach((ins, i) => { if (ins.getKeyword() === 'FROM') last = i })
  return all.slice(last)
}

const keyword = (ins: Instruction[], k: string) => ins.filter((i) => i.getKeyword() === k)
const line = (i: Instruction) => i.getRange().start.line
const inFinal = <T extends Instruction>(df: Dockerfile, list: T[]): T[] => {
  const from = df.getFROMs().at(-1)
  return from ? list.filter((i) => line(i) > line(from)) : list
}
/** A COPY as one string: its flags, then its arguments. */
const copyLine = (c: Copy) => [...c.getFlags().map((f) => `--${f.getName()}=${f.getValue() ?? ''}`), args(c)].join(' ')
const args = (i: Instruction) => (i.getArgumentsContent() ?? '').replace(/\\\n/g, ' ').replace(/\s+/g, ' ').trim()

/** ENV and ARG names and values of the whole file. */
function variables (df: Dockerfile): Array<{ kind: string, name: string, value: string }> {
  const out: Array<{ kind: string, name: string, value: string }> = []
  for (const ins of [...df.getENVs(), ...df.getARGs()]) {
    for (const p of ins.getProperties()) out.push({ kind: ins.getKeyword(), name: p.getName(), value: p.getValue() ?? '' })
  }
  return out
}

/** Default of ARG NODE_IMAGE before the first FROM. */
export function baseImage (df: Dockerfile): string | undefined {
  for (const a of df.getInitialARGs()) {
    for (const p of a.getProperties()) if (p.getName() === 'NODE_IMAGE') return p.getValue() ?? undefined
  }
  return undefined
}

const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|ACCESS_KEY|CREDENTIAL|AUTH)/i
const CREDENTIAL_URL = /:\/\/[^/\s:@]+:[^/\s@]+@/

function execForm (content: string): string[] | undefined {
  if (!content.startsWith('[')) return undefined
  try {
    const v: unknown = JSON.parse(content)
    return Array.isArray(v) && v.every((s) => typeof s === 'string') ? v : undefined
  } catch {
    return undefined
  }
}

export const DOCKERFILE_RULES: DockerfileRule[] = [
  {
    id: 'DL3002 / Trivy DS002 / CIS 4.1',
    title: 'the final stage runs as a non-root numeric user (USER 1000:1000)',
    check: ({ df }) => {
      const users = keyword(finalStage(df), 'USER')
      const last = users.at(-1)
      if (!last) return ['no USER in the final stage: the container would run as root']
      const u = args(last)
      if (!/^\d+:\d+$/.test(u)) return [`USER ${u} is not numeric uid:gid (a runtime cannot verify a name is non-root)`]
      if (u.startsWith('0:') || u.endsWith(':0')) return [`USER ${u} is root`]
      return u === '1000:1000' ? [] : [`USER ${u}, expected 1000:1000 (nodeapp)`]
    },
    breaks: [
      { what: 'USER line removed', mutate: (t) => replaceOnce(t, /^USER .*\n/m, '') },
      { what: 'USER root', mutate: (t) => replaceOnce(t, 'USER 1000:1000', 'USER root') },
      { what: 'USER by name', mutate: (t) => replaceOnce(t, 'USER 1000:1000', 'USER nodeapp') }
    ]
  },
  {
    id: 'DL3007 / Trivy DS001',
    title: 'no base image is "latest" or untagged',
    check: ({ df }) => {
      const image = baseImage(df)
      const problems: string[] = []
      if (!image) problems.push('ARG NODE_IMAGE has no default')
      else if (!image.includes(':') || image.endsWith(':latest')) problems.push(`base image ${image} is latest or untagged`)
      for (const f of df.getFROMs()) {
        const img = f.getImage() ?? ''
        if (/:latest$/.test(img)) problems.push(`FROM ${img}`)
      }
      return problems
    },
    breaks: [
      { what: 'node:latest', mutate: (t) => replaceOnce(t, /ARG NODE_IMAGE=\S+/, 'ARG NODE_IMAGE=node:latest') },
      { what: 'untagged node', mutate: (t) => replaceOnce(t, /ARG NODE_IMAGE=\S+/, 'ARG NODE_IMAGE=node') }
    ]
  },
  {
    id: 'DL3006 / CIS 4.2',
    title: 'the base is a supported Node LTS on a supported Alpine, pinned to exact versions, and every stage starts from it',
    check: ({ df }) => {
      const image = baseImage(df) ?? ''
      const m = /^node:(\d+)\.(\d+)\.(\d+)-alpine(\d+\.\d+)$/.exec(image)
      if (!m) return [`base image "${image}" is not node:<major.minor.patch>-alpine<x.y>`]
      const today = new Date().toISOString().slice(0, 10)
      const problems: string[] = []
      const nodeEol = NODE_LTS_EOL[Number(m[1])]
      if (!nodeEol) problems.push(`Node ${m[1]} is not a supported LTS line (${Object.keys(NODE_LTS_EOL).join(', ')})`)
      else if (nodeEol < today) problems.push(`Node ${m[1]} reached end of life on ${nodeEol}`)
      const alpineEol = ALPINE_EOL[m[4] ?? '']
      if (!alpineEol) problems.push(`Alpine ${m[4]} is not a supported branch (${Object.keys(ALPINE_EOL).join(', ')})`)
      else if (alpineEol < today) problems.push(`Alpine ${m[4]} reached end of life on ${alpineEol}`)
      const stages = df.getFROMs().map((f) => f.getBuildStage())
      for (const f of df.getFROMs()) {
        const img = f.getImage() ?? ''
        if (img !== '${NODE_IMAGE}' && !stages.includes(img)) problems.push(`FROM ${img} is neither \${NODE_IMAGE} nor an earlier stage`)
      }
      return problems
    },
    breaks: [
      { what: 'a floating major tag', mutate: (t) => replaceOnce(t, /ARG NODE_IMAGE=\S+/, 'ARG NODE_IMAGE=node:24-alpine') },
      { what: "the design document's node:20.11-alpine3.19", mutate: (t) => replaceOnce(t, /ARG NODE_IMAGE=\S+/, 'ARG NODE_IMAGE=node:20.11.1-alpine3.19') },
      { what: 'a second, unpinned base', mutate: (t) => replaceOnce(t, 'FROM ${NODE_IMAGE} AS prod-deps', 'FROM node:24-alpine AS prod-deps') }
    ]
  },
  {
    id: 'DL3020 / Trivy DS005 / CIS 4.9',
    title: 'files are copied with COPY, never ADD',
    check: ({ df }) => keyword(df.getInstructions(), 'ADD').map((i) => `ADD ${args(i)}`),
    breaks: [{ what: 'ADD for package files', mutate: (t) => replaceOnce(t, 'COPY package.json ./', 'ADD package.json ./') }]
  },
  {
    id: 'Trivy DS026 / CIS 4.6',
    title: 'a HEALTHCHECK in exec form asks /health on the role\'s port with node',
    check: ({ df, port }) => {
      const hc = keyword(finalStage(df), 'HEALTHCHECK').at(-1)
      if (!hc) return ['no HEALTHCHECK in the final stage']
      const content = args(hc)
      const m = /^CMD\s+(\[.*\])$/.exec(content)
      const argv = m ? execForm(m[1] ?? '') : undefined
      if (!argv) return [`HEALTHCHECK ${content} is not CMD in exec form`]
      if (argv[0] !== 'node') return [`the health check runs ${argv[0]}, not node`]
      const script = argv.join(' ')
      return script.includes('/health') && script.includes(String(port)) ? [] : [`the health check does not ask /health on ${port}`]
    },
    breaks: [
      { what: 'HEALTHCHECK removed', mutate: (t) => replaceOnce(t, /^HEALTHCHECK [^\n]*\\\n[^\n]*\n/m, '') },
      { what: 'HEALTHCHECK NONE', mutate: (t) => replaceOnce(t, /^HEALTHCHECK [^\n]*\\\n[^\n]*\n/m, 'HEALTHCHECK NONE\n') },
      { what: 'shell form with wget', mutate: (t) => replaceOnce(t, /CMD \["node", "-e", .*\]$/m, 'CMD wget -qO- http://127.0.0.1:3000/health') }
    ]
  },
  {
    id: 'DL3025 / design "never through npm"',
    title: 'CMD is exec form ["node", "dist/main.js"] and no entrypoint script runs first',
    check: ({ df }) => {
      const stage = finalStage(df)
      const cmd = keyword(stage, 'CMD').at(-1)
      const problems: string[] = []
      const argv = cmd ? execForm(args(cmd)) : undefined
      if (!argv) problems.push(`CMD ${cmd ? args(cmd) : '(none)'} is not exec form`)
      else if (argv.join(' ') !== 'node dist/main.js') problems.push(`CMD runs ${argv.join(' ')}, expected node dist/main.js`)
      const ep = keyword(stage, 'ENTRYPOINT').at(-1)
      if (!ep || args(ep) !== '[]') problems.push('ENTRYPOINT is not reset to [] (the base image\'s script would run first)')
      return problems
    },
    breaks: [
      { what: 'shell-form CMD', mutate: (t) => replaceOnce(t, 'CMD ["node", "dist/main.js"]', 'CMD node dist/main.js') },
      { what: 'CMD through npm', mutate: (t) => replaceOnce(t, 'CMD ["node", "dist/main.js"]', 'CMD ["npm", "start"]') },
      { what: 'base entrypoint kept', mutate: (t) => replaceOnce(t, /^ENTRYPOINT \[\]\n/m, '') }
    ]
  },
  {
    id: 'CIS 4.10 / Trivy DS031 / KICS "Passwords And Secrets"',
    title: 'no secret in ARG or ENV (names that look secret, or URLs with credentials)',
    check: ({ df }) => variables(df).flatMap(({ kind, name, value }) => [
      ...(SECRET_NAME.test(name) ? [`${kind} ${name} looks like a secret`] : []),
      ...(CREDENTIAL_URL.test(value) ? [`${kind} ${name} holds a URL with credentials`] : [])
    ]),
    breaks: [
      { what: 'ENV TWILIO_AUTH_TOKEN', mutate: (t) => replaceOnce(t, 'HOST=0.0.0.0', 'HOST=0.0.0.0 \\\n    TWILIO_AUTH_TOKEN=0123456789abcdef') },
      { what: 'ARG with a database URL', mutate: (t) => replaceOnce(t, 'ARG APK_UPGRADE=true', 'ARG APK_UPGRADE=true\nARG DB=postgres://app:hunter2@db:5432/app') }
    ]
  },
  {
    id: 'CIS 4.3 / design §1 multi-stage',
    title: 'builder, prod-deps and runtime stages; the runtime holds only dist, production node_modules, package.json and migrations',
    check: ({ df }) => {
      const problems: string[] = []
      const stages = df.getFROMs().map((f) => f.getBuildStage())
      if (stages.join(',') !== 'builder,prod-deps,runtime') problems.push(`stages are ${stages.join(', ')}`)
      const all = df.getInstructions().map((i) => `${i.getKeyword()} ${args(i)}`)
      const at = (s: string) => all.findIndex((x) => x === s)
      const ciDev = at('RUN npm ci --ignore-scripts --no-audit --no-fund')
      if (ciDev < 0 || at('COPY package.json package-lock.json ./') > ciDev || at('COPY src ./src') < ciDev) {
        problems.push('builder: package files must be copied, then npm ci run, before the source is copied')
      }
      if (at('RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund') < 0) problems.push('prod-deps: npm ci --omit=dev --ignore-scripts --no-audit --no-fund is missing')
      const copies = inFinal(df, df.getCOPYs()).map(copyLine).sort()
      const wanted = ['--from=builder /build/dist ./dist', '--from=prod-deps /build/node_modules ./node_modules', 'migrations ./migrations', 'package.json ./'].sort()
      if (JSON.stringify(copies) !== JSON.stringify(wanted)) problems.push(`runtime copies ${JSON.stringify(copies)}, expected exactly ${JSON.stringify(wanted)}`)
      return problems
    },
    breaks: [
      { what: 'the whole context copied into the runtime', mutate: (t) => replaceOnce(t, 'COPY migrations ./migrations', 'COPY migrations ./migrations\nCOPY . .') },
      { what: 'dev dependencies in the runtime', mutate: (t) => replaceOnce(t, 'COPY --from=prod-deps /build/node_modules', 'COPY --from=builder /build/node_modules') },
      { what: 'source copied before npm ci', mutate: (t) => replaceOnce(t, 'COPY package.json package-lock.json ./\nRUN npm ci --ignore-scripts', 'COPY package.json package-lock.json ./\nCOPY src ./src\nRUN npm ci --ignore-scripts') },
      { what: 'install scripts run for production dependencies', mutate: (t) => replaceOnce(t, 'npm ci --omit=dev --ignore-scripts', 'npm ci --omit=dev') }
    ]
  },
  {
    id: 'design §2 (corrected) / CIS 4.1',
    title: 'nodeapp is uid and gid 1000 after the base image\'s node user is removed; the code is root-owned',
    check: ({ df }) => {
      const run = keyword(finalStage(df), 'RUN').map(args).join(' && ')
      const problems: string[] = []
      const del = run.indexOf('deluser --remove-home node')
      const group = run.search(/addgroup (-S )?-g 1000 nodeapp/)
      const user = run.search(/adduser .*-G nodeapp -u 1000 nodeapp/)
      if (del < 0) problems.push('the node user (uid 1000 in the official image) is not removed first')
      if (group < 0 || group < del) problems.push('addgroup -g 1000 nodeapp missing or before deluser node')
      if (user < 0 || user < group) problems.push('adduser -u 1000 -G nodeapp nodeapp missing or before its group')
      const chowned = inFinal(df, df.getCOPYs()).filter((c) => c.getFlags().some((f) => /^(chown|chmod)$/.test(f.getName())))
      if (chowned.length > 0) problems.push('runtime files are copied with --chown/--chmod: the code must stay root-owned')
      return problems
    },
    breaks: [
      { what: "the design document's addgroup without removing node", mutate: (t) => replaceOnce(t, '    && deluser --remove-home node \\\n', '') },
      { what: 'code owned by the runtime user', mutate: (t) => replaceOnce(t, 'COPY --from=builder /build/dist', 'COPY --chown=1000:1000 --from=builder /build/dist') }
    ]
  },
  {
    id: 'design §4 / §6',
    title: 'apk upgrade unless skipped, and the runtime environment: NODE_ENV, NPM_CONFIG_UPDATE_NOTIFIER, NODE_OPTIONS, SERVICE_ROLE, PORT, HOST, EXPOSE',
    check: ({ df, role, port }) => {
      const problems: string[] = []
      const stage = finalStage(df)
      if (!keyword(stage, 'RUN').some((r) => args(r).includes('apk upgrade --no-cache'))) problems.push('no apk upgrade --no-cache')
      const env = Object.fromEntries(inFinal(df, df.getENVs()).flatMap((e) => e.getProperties().map((p) => [p.getName(), p.getValue()])))
      const want: Record<string, string> = {
        NODE_ENV: 'production',
        NPM_CONFIG_UPDATE_NOTIFIER: 'false',
        NODE_OPTIONS: '--max-old-space-size=512 --max-semi-space-size=4',
        SERVICE_ROLE: role,
        PORT: String(port),
        HOST: '0.0.0.0'
      }
      for (const [k, v] of Object.entries(want)) if (env[k] !== v) problems.push(`ENV ${k}=${String(env[k])}, expected ${v}`)
      const expose = keyword(stage, 'EXPOSE').map(args)
      if (expose.join(' ') !== String(port)) problems.push(`EXPOSE ${expose.join(' ')}, expected ${port}`)
      return problems
    },
    breaks: [
      { what: 'wrong role', mutate: (t) => replaceOnce(t, /ENV SERVICE_ROLE=\S+/, 'ENV SERVICE_ROLE=all') },
      { what: 'no heap limit', mutate: (t) => replaceOnce(t, '--max-old-space-size=512 ', '') },
      { what: 'no young-generation cap', mutate: (t) => replaceOnce(t, ' --max-semi-space-size=4', '') },
      { what: 'no apk upgrade', mutate: (t) => replaceOnce(t, 'if [ "$APK_UPGRADE" = "true" ]; then apk upgrade --no-cache; fi', 'true') }
    ]
  },
  {
    id: 'DL3003 / Trivy DS013, DL3000',
    title: 'no cd in RUN, WORKDIR is absolute',
    check: ({ df }) => [
      ...df.getInstructions().filter((i) => i.getKeyword() === 'RUN' && /(^|&&|;)\s*cd\s/.test(args(i))).map((i) => `RUN ${args(i)} uses cd`),
      ...keyword(df.getInstructions(), 'WORKDIR').filter((i) => !args(i).startsWith('/')).map((i) => `WORKDIR ${args(i)} is relative`)
    ],
    breaks: [
      { what: 'cd in RUN', mutate: (t) => replaceOnce(t, 'RUN npm run build', 'RUN cd /build && npm run build') },
      { what: 'relative WORKDIR', mutate: (t) => replaceOnce(t, 'WORKDIR /app', 'WORKDIR app') }
    ]
  },
  {
    id: 'classic builder (Docker 20.10 without BuildKit)',
    title: 'no RUN --mount, no heredoc, no syntax directive',
    check: ({ text }) => [
      ...(/^RUN\s+--mount/m.test(text) ? ['RUN --mount needs BuildKit'] : []),
      ...(/<<-?\s*['"]?[A-Z]+['"]?\s*$/m.test(text) ? ['a heredoc needs BuildKit'] : []),
      ...(/^#\s*syntax=/m.test(text) ? ['a syntax directive needs BuildKit'] : [])
    ],
    breaks: [
      { what: 'npm cache mount', mutate: (t) => replaceOnce(t, 'RUN npm ci --ignore-scripts', 'RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts') },
      { what: 'heredoc', mutate: (t) => replaceOnce(t, 'RUN npm run build', "RUN <<EOF\nnpm run build\nEOF") }
    ]
  }
]
