/**
 * The SMTP ceiling: the system's own nodemailer provider (same pooled transport, same settings)
 * sending the same messages straight to the same sink, with as many in flight as an email-service
 * worker has (WORKER_CONCURRENCY). No database, no queue.
 */
import { randomUUID } from 'node:crypto'
import { createNodemailerProvider } from '../../src/providers/email/nodemailer.js'
import { EMAIL_FROM, emailContent } from '../lib/body.js'
import { percentiles, wallMs } from '../lib/util.js'

export interface SmtpCeilingOptions { smtpUrl: string, poolSize: number, concurrency: number, amount: number, timeoutSec: number }

export async function runSmtpCeiling (o: SmtpCeilingOptions) {
  const provider = createNodemailerProvider({ url: o.smtpUrl, from: EMAIL_FROM, poolSize: o.poolSize, timeoutMs: 15000 })
  const send = async (n: number) => {
    const c = emailContent(n)
    await provider.send({ to: `user${n}@bench.example.com`, subject: c.subject, text: c.text, html: c.html, messageId: `<${randomUUID()}@bench.example.com>` })
  }
  // The pool's connections are open before the clock starts, as they are in a running email-service.
  await Promise.all(Array.from({ length: o.poolSize }, (_, i) => send(-1 - i)))
  const until = wallMs() + o.timeoutSec * 1000
  let next = 0
  let sent = 0
  let failed = 0
  const latencies: number[] = []
  const startedAt = wallMs()
  await Promise.all(Array.from({ length: o.concurrency }, async () => {
    while (next < o.amount && wallMs() < until) {
      const n = next++
      const t0 = wallMs()
      try {
        await send(n)
        sent++
        latencies.push(wallMs() - t0)
      } catch { failed++ }
    }
  }))
  const seconds = (wallMs() - startedAt) / 1000
  await provider.close()
  return { sent, failed, seconds, perSecond: sent / seconds, latencyMs: percentiles(latencies) }
}

if (process.argv[2]) {
  const out = await runSmtpCeiling(JSON.parse(process.argv[2]) as SmtpCeilingOptions)
  process.stdout.write(JSON.stringify(out) + '\n')
}
