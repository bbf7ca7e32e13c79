import type { FastifyInstance } from 'fastify'
import { orchestratorModule } from '../modules/orchestrator/index.js'

/** Worker: turns accepted notifications into channel deliveries. */
export async function channelOrchestrator (app: FastifyInstance): Promise<void> {
  await app.register(orchestratorModule)
}
