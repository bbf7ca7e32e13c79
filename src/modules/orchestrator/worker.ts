import type { FastifyInstance } from 'fastify'
import { JOBS, QUEUES, jobIds, queueForChannel, type AdvanceJob, type OrchestrateJob } from '../../queues/contracts.js'
import { createOrchestratorRepository } from './repository.js'
import { createOrchestrator } from './service.js'

// Room for attempts that failed before reaching the provider (a database hiccup), beyond MAX_ATTEMPTS sends.
const SPARE_ATTEMPTS = 3

export function startOrchestratorWorker (app: FastifyInstance) {
  const { queues, config, metrics } = app
  const orchestrator = createOrchestrator({
    repo: createOrchestratorRepository(app.pool),
    enqueue: async (d) => {
      await queues.add(queueForChannel(d.channel), JOBS.deliver, { deliveryId: d.id }, { jobId: jobIds.deliver(d.id), attempts: config.MAX_ATTEMPTS + SPARE_ATTEMPTS })
    },
    onSkipped: (channel) => { metrics.deliveries.inc({ channel, status: 'skipped' }) }
  })
  return queues.work<OrchestrateJob | AdvanceJob>(QUEUES.orchestrator, async (job) => {
    if (job.name === JOBS.orchestrate) await orchestrator.orchestrate(job.data.notificationId)
    else if (job.name === JOBS.advance) await orchestrator.advance(job.data.notificationId)
    else app.log.warn({ name: job.name }, 'unknown orchestrator job')
  })
}
