import { Type, type Static } from 'typebox'

/**
 * The only coupling between roles: queue names, job names and payload schemas.
 * Jobs carry ids, never message bodies or personal data; a delivery job's id is the delivery id.
 */
export const CHANNELS = ['email', 'sms', 'push', 'inapp'] as const
export type Channel = typeof CHANNELS[number]

export const QUEUES = {
  orchestrator: 'orchestrator',
  email: 'email',
  sms: 'sms',
  push: 'push',
  inapp: 'inapp'
} as const
export type QueueName = typeof QUEUES[keyof typeof QUEUES]

export const JOBS = {
  /** Expand an accepted notification into deliveries (delayed until sendAt). */
  orchestrate: 'orchestrate',
  /** A delivery reached a final status: move a fallback on and settle the notification. */
  advance: 'advance',
  /** Send one delivery on its channel. */
  deliver: 'deliver'
} as const

export const OrchestrateJob = Type.Object({ notificationId: Type.String({ format: 'uuid' }) })
export type OrchestrateJob = Static<typeof OrchestrateJob>

export const AdvanceJob = Type.Object({
  notificationId: Type.String({ format: 'uuid' }),
  deliveryId: Type.String({ format: 'uuid' })
})
export type AdvanceJob = Static<typeof AdvanceJob>

export const DeliverJob = Type.Object({ deliveryId: Type.String({ format: 'uuid' }) })
export type DeliverJob = Static<typeof DeliverJob>

/** Job ids: deterministic, so enqueueing twice does nothing. BullMQ forbids ':' in custom ids. */
export const jobIds = {
  orchestrate: (notificationId: string) => `n-${notificationId}`,
  advance: (deliveryId: string, status: string) => `a-${deliveryId}-${status}`,
  deliver: (deliveryId: string) => deliveryId
}

/** Redis pub/sub channel on which the inapp module announces inbox changes to every replica. */
export const inboxChannel = (prefix: string) => `${prefix}:inbox-events`

export const DELIVERY_STATUS = ['pending', 'queued', 'sending', 'sent', 'delivered', 'failed', 'skipped', 'canceled'] as const
export type DeliveryStatus = typeof DELIVERY_STATUS[number]
export const FINAL_DELIVERY_STATUS: readonly DeliveryStatus[] = ['sent', 'delivered', 'failed', 'skipped', 'canceled']
export const SUCCESS_STATUS: readonly DeliveryStatus[] = ['sent', 'delivered']

export const queueForChannel = (channel: Channel): QueueName => QUEUES[channel]

/**
 * A notification's final status from its deliveries' statuses, or undefined while one is open:
 * completed when any succeeded, canceled when none did and one was canceled, failed otherwise.
 */
export function notificationOutcome (statuses: readonly string[]): 'completed' | 'failed' | 'canceled' | undefined {
  if (!statuses.every((s) => (FINAL_DELIVERY_STATUS as readonly string[]).includes(s))) return undefined
  if (statuses.some((s) => (SUCCESS_STATUS as readonly string[]).includes(s))) return 'completed'
  return statuses.includes('canceled') ? 'canceled' : 'failed'
}
