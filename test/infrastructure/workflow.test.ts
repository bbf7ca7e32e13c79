import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import YAML from 'yaml'
import { ROLES } from './compose-rules.js'

// .github/workflows/security-scan.yml: every action pinned by a full commit SHA
// with the tag in a comment, a token with no permission by default, and
// security-events: write only on the job that uploads SARIF.
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const text = readFileSync(join(ROOT, '.github/workflows/security-scan.yml'), 'utf8')

interface Step { uses?: string, run?: string, with?: Record<string, unknown> }
interface Job { permissions?: Record<string, string>, steps?: Step[], strategy?: { matrix?: { role?: string[] } } }
interface Workflow { permissions?: unknown, jobs: Record<string, Job> }

/** Problems with the pinning of `uses:` lines (checked on the text: the version comment is not in the parsed YAML). */
export function pinProblems (source: string): string[] {
  return source.split('\n').flatMap((line, i) => {
    const m = /^\s*-?\s*uses:\s*(\S+)(.*)$/.exec(line)
    if (!m) return []
    const [, ref = '', rest = ''] = m
    if (ref.startsWith('./')) return []
    if (!/^[\w.-]+\/[\w.\/-]+@[0-9a-f]{40}$/.test(ref)) return [`line ${i + 1}: ${ref} is not pinned to a 40-hex commit SHA`]
    return /#\s*v\d+(\.\d+)*/.test(rest) ? [] : [`line ${i + 1}: ${ref} has no "# vX.Y.Z" comment naming its tag`]
  })
}

/** Problems with the token's permissions. */
export function permissionProblems (wf: Workflow): string[] {
  const problems: string[] = []
  const top = wf.permissions
  const narrow = top !== undefined && typeof top === 'object' && top !== null &&
    Object.entries(top).every(([k, v]) => k === 'contents' && v === 'read')
  if (!narrow) problems.push(`top-level permissions ${JSON.stringify(top)}: expected {} or contents: read`)
  for (const [name, job] of Object.entries(wf.jobs)) {
    const uploads = (job.steps ?? []).some((s) => (s.uses ?? '').startsWith('github/codeql-action/upload-sarif@'))
    const perms = job.permissions ?? {}
    for (const [scope, level] of Object.entries(perms)) {
      if (level === 'write' && !(scope === 'security-events' && uploads)) problems.push(`job ${name}: ${scope}: write`)
    }
    if (uploads && perms['security-events'] !== 'write') problems.push(`job ${name} uploads SARIF without security-events: write`)
  }
  return problems
}

t.test('every action is pinned by commit SHA with its tag in a comment', async (t) => {
  t.same(pinProblems(text), [])
  t.ok((text.match(/uses:/g)?.length ?? 0) >= 4, 'the workflow uses actions at all')
  t.ok(pinProblems(text.replace(/actions\/checkout@[0-9a-f]{40}/, 'actions/checkout@v6')).length > 0, 'a tag instead of a SHA fails')
  t.ok(pinProblems(text.replace(/(hadolint-action@[0-9a-f]{40}) # v[\d.]+/, '$1')).length > 0, 'a SHA without its tag comment fails')
  t.ok(pinProblems(text.replace(/trivy-action@[0-9a-f]{40}/, 'trivy-action@ed142fd')).length > 0, 'a short SHA fails')
})

t.test('the token can do nothing by default; only the uploading job writes security events', async (t) => {
  const wf = YAML.parse(text) as Workflow
  t.same(permissionProblems(wf), [])
  t.ok(permissionProblems({ ...wf, permissions: 'write-all' }).length > 0, 'write-all fails')
  const lint = structuredClone(wf)
  const job = lint.jobs.hadolint
  if (job) job.permissions = { contents: 'read', 'security-events': 'write' }
  t.ok(permissionProblems(lint).length > 0, 'security-events: write on a job that uploads nothing fails')
})

t.test('it builds the six images, scans them with Trivy (SARIF) and lints the Dockerfiles with hadolint', async (t) => {
  const wf = YAML.parse(text) as Workflow
  const jobs = Object.values(wf.jobs)
  const withStep = (prefix: string) => jobs.filter((j) => (j.steps ?? []).some((s) => (s.uses ?? '').startsWith(prefix)))
  const scan = withStep('aquasecurity/trivy-action@')[0]
  t.ok(scan, 'a Trivy job')
  t.same(scan?.strategy?.matrix?.role, [...ROLES], 'over the six roles')
  t.ok((scan?.steps ?? []).some((s) => /docker build -f "infrastructure\/docker\/Dockerfile\.\$\{\{ matrix\.role \}\}"/.test(s.run ?? '')), 'that builds each image')
  t.ok((scan?.steps ?? []).some((s) => s.with?.format === 'sarif'), 'with SARIF output')
  t.ok((scan?.steps ?? []).some((s) => s.with?.['exit-code'] === '1' && String(s.with?.severity).includes('CRITICAL')), 'and a HIGH/CRITICAL gate')
  const lint = withStep('hadolint/hadolint-action@')[0]
  t.same(lint?.strategy?.matrix?.role, [...ROLES], 'hadolint over the six Dockerfiles')
})
