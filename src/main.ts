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
closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT_MS }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'shutting down after an error')
  else app.log.info({ signal }, 'shutting down: finishing active jobs')
  await app.close()
})
await app.listen({ port: config.PORT, host: config.HOST })
app.log.info({ roles: config.roles, port: config.PORT }, 'started')
