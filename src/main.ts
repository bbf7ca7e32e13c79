import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'

let config
try {
  config = loadConfig()
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  console.error(`configuration error: ${err.message}`)
  process.exit(1)
}

const app = await buildApp(config)
closeWithGrace({
  delay: config.SHUTDOWN_TIMEOUT_MS,
  // A shutdown that ran out of time is still an orderly stop: the jobs it held are not acknowledged,
  // so BullMQ hands them to another worker once their lock expires. The contract asks for exit 0.
  onTimeout: (ms) => {
    app.log.warn({ timeoutMs: ms }, 'shutdown timed out: unfinished jobs will be retried by another worker')
    process.exit(0)
  }
}, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'shutting down after an error')
  else app.log.info({ signal }, 'shutting down: finishing active jobs')
  await app.close()
})
await app.listen({ port: config.PORT, host: config.HOST })
app.log.info({ roles: config.roles, port: config.PORT }, 'started')
