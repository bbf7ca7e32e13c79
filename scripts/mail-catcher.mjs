// A local SMTP server for `npm run dev`: accepts every message, prints who it was for and its
// subject, and keeps it as an .eml file, so a developer sees email work without a mail provider.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SMTPServer } from 'smtp-server'

const port = Number(process.argv[2] ?? 1025)
const dir = process.argv[3] ?? '.dev/mail'
mkdirSync(dir, { recursive: true })
let n = 0
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData (stream, session, cb) {
    const chunks = []
    stream.on('data', (c) => chunks.push(c))
    stream.on('end', () => {
      const raw = Buffer.concat(chunks)
      const subject = /^Subject: (.*)$/m.exec(raw.toString('utf8'))?.[1] ?? ''
      const file = join(dir, `${Date.now()}-${++n}.eml`)
      writeFileSync(file, raw)
      console.log(`mail-catcher: to ${session.envelope.rcptTo.map((r) => r.address).join(', ')}: "${subject}" → ${file}`)
      cb()
    })
  }
})
server.listen(port, '127.0.0.1', () => console.log(`mail-catcher: SMTP on 127.0.0.1:${port}, messages in ${dir}`))
const stop = () => server.close(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
