import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { BUILD, ROOT, sleep, waitFor } from './util.js'

export interface Proc {
  name: string
  child: ChildProcess
  pid: number
  output: () => string
  /** Resolves with the first stdout line that pred accepts; rejects after timeoutMs or when the process exits. */
  line: (pred: (line: string) => boolean, timeoutMs: number) => Promise<string>
  rssMb: () => number | undefined
  stop: (timeoutMs?: number) => Promise<void>
}

const running = new Set<Proc>()

/** Resident set size of a process in MB, from /proc/<pid>/status (VmRSS). */
export function rssMb (pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : undefined
  } catch { return undefined }
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat; undefined once it is gone. */
export function cpuSeconds (pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch { return undefined }
}

/** PostgreSQL backends serving one database (their title is "postgres: 15/main: user db ..."). */
function backendsOf (database: string): number[] {
  const out: number[] = []
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8')
      if (cmd.startsWith('postgres: ') && cmd.includes(` ${database} `)) out.push(Number(d))
    } catch {}
  }
  return out
}

/**
 * CPU used by the processes of a measurement (the roles, and PostgreSQL's backends for its
 * database): robust on a shared machine where rates drift, since other work does not count.
 */
export function cpuMeter (procs: Proc[], database?: string) {
  const take = () => {
    const m = new Map<string, number>()
    for (const p of procs) m.set(p.name, cpuSeconds(p.pid) ?? 0)
    if (database) for (const pid of backendsOf(database)) m.set(`pg:${pid}`, cpuSeconds(pid) ?? 0)
    return m
  }
  const before = take()
  return {
    /** CPU milliseconds per unit of work, by process (PostgreSQL's backends summed as "postgres"). */
    stop: (units: number): Record<string, number> => {
      const after = take()
      const out: Record<string, number> = {}
      for (const [k, v] of after) {
        const name = k.startsWith('pg:') ? 'postgres' : k
        out[name] = (out[name] ?? 0) + (v - (before.get(k) ?? 0))
      }
      return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Math.round((v * 1000 / Math.max(1, units)) * 100) / 100]))
    }
  }
}

export function start (name: string, command: string, args: string[], env: Record<string, string> = {}, cwd = ROOT): Proc {
  const child = spawn(command, args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let partial = ''
  const lines: string[] = []
  const waiters = new Set<() => void>()
  child.stdout?.on('data', (d: Buffer) => {
    const s = partial + d.toString()
    const parts = s.split('\n')
    partial = parts.pop() ?? ''
    lines.push(...parts)
    if (out.length < 200_000) out += d.toString()
    for (const w of waiters) w()
  })
  child.stderr?.on('data', (d: Buffer) => { if (out.length < 200_000) out += d.toString() })
  const exited = new Promise<void>((resolve) => child.once('exit', () => { for (const w of waiters) w(); resolve() }))
  const proc: Proc = {
    name,
    child,
    pid: child.pid ?? -1,
    output: () => out,
    line: async (pred, timeoutMs) => await new Promise<string>((resolve, reject) => {
      let seen = 0
      const check = () => {
        for (; seen < lines.length; seen++) {
          if (pred(lines[seen] as string)) { cleanup(); return resolve(lines[seen] as string) }
        }
        if (child.exitCode !== null || child.signalCode !== null) { cleanup(); reject(new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before the expected output: ${out.slice(-2000)}`)) }
      }
      const timer = setTimeout(() => { cleanup(); reject(new Error(`${name}: no expected output within ${timeoutMs} ms: ${out.slice(-2000)}`)) }, timeoutMs)
      const cleanup = () => { clearTimeout(timer); waiters.delete(check) }
      waiters.add(check)
      check()
    }),
    rssMb: () => rssMb(proc.pid),
    stop: async (timeoutMs = 10000) => {
      running.delete(proc)
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      await exited
      clearTimeout(t)
    }
  }
  running.add(proc)
  return proc
}

/** Runs a compiled benchmark child (bench/child/<name>.js) to its end and returns its last JSON line. */
export async function runChild<T> (name: string, args: unknown[], timeoutMs: number): Promise<T> {
  const p = start(name, process.execPath, [join(BUILD, 'child', `${name}.js`), ...args.map((a) => typeof a === 'string' ? a : JSON.stringify(a))])
  try {
    const line = await p.line((l) => l.startsWith('{'), timeoutMs)
    return JSON.parse(line) as T
  } finally {
    await p.stop(3000)
  }
}

/**
 * The Node options the images run every role with (their Dockerfile's NODE_OPTIONS: heap limit,
 * young-generation cap), so what is measured here is what ships. BENCH_NODE_OPTIONS overrides them
 * for an A/B of the options themselves.
 */
export function imageNodeOptions (root: string): string {
  if (process.env.BENCH_NODE_OPTIONS !== undefined) return process.env.BENCH_NODE_OPTIONS
  const dockerfile = readFileSync(join(root, 'infrastructure', 'docker', 'Dockerfile.notification-service'), 'utf8')
  return /NODE_OPTIONS="([^"]*)"/.exec(dockerfile)?.[1] ?? /NODE_OPTIONS=(\S+)/.exec(dockerfile)?.[1] ?? ''
}

/** A role of the system, as production runs it: node dist/main.js with SERVICE_ROLE; resolves once /health answers. */
export async function startRole (role: string, port: number, env: Record<string, string>, nodeArgs: string[] = []): Promise<Proc & { url: string }> {
  // BENCH_SYSTEM_ROOT runs another checkout's build (an A/B comparison of two versions).
  const root = process.env.BENCH_SYSTEM_ROOT ?? ROOT
  const p = start(role, process.execPath, [...nodeArgs, 'dist/main.js'], { NODE_OPTIONS: imageNodeOptions(root), ...env, SERVICE_ROLE: role, PORT: String(port), HOST: '127.0.0.1' }, root)
  const url = `http://127.0.0.1:${port}`
  await waitFor(async () => {
    if (p.child.exitCode !== null) throw new Error(`${role} exited with ${p.child.exitCode}: ${p.output().slice(-3000)}`)
    const r = await fetch(url + '/health').catch(() => undefined)
    return r?.ok === true
  }, `${role} to answer /health`, 30000, 100)
  return Object.assign(p, { url })
}

/** Stops everything still running: called at the end and on failure. */
export async function stopAll (): Promise<void> {
  await Promise.all([...running].map((p) => p.stop(5000)))
}

/** Samples the RSS of processes every intervalMs until stopped; returns the peak of each in MB. */
export function sampleRss (procs: Proc[], intervalMs = 200) {
  const peak = new Map<string, number>()
  const take = () => { for (const p of procs) { const v = p.rssMb(); if (v !== undefined && v > (peak.get(p.name) ?? 0)) peak.set(p.name, v) } }
  take()
  const timer = setInterval(take, intervalMs)
  return {
    stop: (): Record<string, number> => { clearInterval(timer); take(); return Object.fromEntries(peak) }
  }
}

/** A port nothing listens on right now (the kernel picks it), for a process the benchmark starts. */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

export { sleep }
