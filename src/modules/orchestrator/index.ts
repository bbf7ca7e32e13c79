import type { FastifyInstance } from 'fastify'
import { startOrchestratorWorker } from './worker.js'

/** The channel orchestrator: preferences, addresses, strategy and schedule. */
export async function orchestratorModule (app: FastifyInstance): Promise<void> {
  app.addHook('onReady', async () => { startOrchestratorWorker(app) })
}
