/** A discarding SMTP server from npm's smtp-server, used when postfix's smtp-sink is not installed. */
import { SMTPServer } from 'smtp-server'

const port = Number(process.argv[2] ?? 2525)
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  maxClients: 1024,
  onData (stream, _session, cb) { stream.on('data', () => {}); stream.on('end', () => cb()) }
})
server.listen(port, '127.0.0.1', () => { process.stdout.write('ready\n') })
process.on('SIGTERM', () => { server.close(() => process.exit(0)) })
