import type { FastifyBaseLogger } from 'fastify'
import type { Metrics } from '../../plugins/metrics.js'
import type { Queues } from '../../plugins/queues.js'
import { INVALID_ADDRESS_CODES } from '../../providers/sms/twilio.js'
import { JOBS, QUEUES, jobIds } from '../../queues/contracts.js'
import { Errors } from '../../errors.js'
import type { SmsRepository } from './repository.js'

export interface StatusCallback { MessageSid: string, MessageStatus: string, ErrorCode?: string }

/** Twilio's final message statuses, as ours; the others (queued, sending, sent, …) change nothing. */
const FINAL: Record<string, 'delivered' | 'failed'> = { delivered: 'delivered', undelivered: 'failed', failed: 'failed' }
const UNKNOWN_SID_WAIT_MS = 250

export function createStatusService ({ repo, queues, metrics, log, unknownSidRetries = 8 }: { repo: SmsRepository, queues: Queues, metrics: Metrics, log: FastifyBaseLogger, unknownSidRetries?: number }) {
  return {
    /** Applies one status callback; throws UnknownMessageSid when no SMS delivery has the SID. */
    async apply (cb: StatusCallback): Promise<{ deliveryId: string, status: string, changed: boolean }> {
      const target = FINAL[cb.MessageStatus]
      const code = cb.ErrorCode ? Number(cb.ErrorCode) : undefined
      const lookup = async () => target === undefined
        ? await repo.find(cb.MessageSid)
        : await repo.moveFromSent(cb.MessageSid, target === 'delivered'
          ? { status: 'delivered' }
          : {
              status: 'failed',
              reason: code !== undefined && INVALID_ADDRESS_CODES.has(code) ? 'invalid_address' : 'provider_rejected',
              error: `twilio status ${cb.MessageStatus}${cb.ErrorCode ? ` (ErrorCode ${cb.ErrorCode})` : ''}`
            })
      // Twilio can call back before the worker has stored the SID it was just given, and it does not
      // retry a 404: look again for a moment before saying the SID is unknown.
      let result = await lookup()
      for (let i = 0; !result && i < unknownSidRetries; i++) {
        await new Promise((resolve) => setTimeout(resolve, UNKNOWN_SID_WAIT_MS))
        result = await lookup()
      }
      if (!result) throw new Errors.UnknownMessageSid(cb.MessageSid)
      const { delivery: d, changed } = result
      log.info({ deliveryId: d.id, sid: cb.MessageSid, messageStatus: cb.MessageStatus, errorCode: cb.ErrorCode, status: d.status, changed }, 'twilio status callback')
      if (changed) metrics.deliveries.inc({ channel: 'sms', status: d.status })
      // Also on a repeat of the status the delivery has: the first announcement may have been lost (the job id keeps it once).
      if (target !== undefined && d.status === target) {
        await queues.add(QUEUES.orchestrator, JOBS.advance, { notificationId: d.notificationId, deliveryId: d.id }, { jobId: jobIds.advance(d.id, d.status) })
      }
      return { deliveryId: d.id, status: d.status, changed }
    }
  }
}
export type StatusService = ReturnType<typeof createStatusService>
