import { simpleParser, type ParsedMail } from 'mailparser'
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'

export interface ReceivedMail { envelopeTo: string[], envelopeFrom: string, parsed: ParsedMail }
/** Answer for one RCPT TO: undefined accepts; otherwise an SMTP code and message, optionally after a delay. */
export type RcptScript = (address: string, seen: number) => { code: number, message: string, delayMs?: number } | undefined

/** A real SMTP server on loopback that keeps what it receives and answers RCPT as a test scripts it. */
export async function startSmtp () {
  const mails: ReceivedMail[] = []
  const rcptSeen = new Map<string, number>()
  let script: RcptScript = () => undefined
  let holdMs = 0

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo (address, _session, cb) {
      const seen = (rcptSeen.get(address.address) ?? 0) + 1
      rcptSeen.set(address.address, seen)
      const answer = script(address.address, seen)
      if (!answer) return cb()
      setTimeout(() => cb(Object.assign(new Error(answer.message), { responseCode: answer.code })), answer.delayMs ?? 0)
    },
    onData (stream, session, cb) {
      simpleParser(stream).then(async (parsed) => {
        if (holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs))
        mails.push({
          envelopeTo: session.envelope.rcptTo.map((r) => r.address),
          envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          parsed
        })
        cb()
      }, cb)
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.server.address() as AddressInfo).port
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    mails,
    rcptCount: (address: string) => rcptSeen.get(address) ?? 0,
    script (fn: RcptScript) { script = fn },
    /** Delays the answer to DATA, to hold a send in flight. */
    hold (ms: number) { holdMs = ms },
    mailsTo: (address: string) => mails.filter((m) => m.envelopeTo.includes(address)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
export type SmtpPeer = Awaited<ReturnType<typeof startSmtp>>
