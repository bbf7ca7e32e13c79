import { sql } from 'drizzle-orm'
import {
  bigserial, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid
} from 'drizzle-orm/pg-core'

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()

/** Module auth: tenants and their API keys (only the SHA-256 of a key is stored). */
export const tenants = pgTable('tenants', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique(),
  createdAt: createdAt()
})

export const apiKeys = pgTable('api_keys', {
  id: uuid('id').primaryKey().defaultRandom(),
  tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
  keyHash: text('key_hash').notNull().unique(),
  prefix: text('prefix').notNull(),
  name: text('name').notNull().default('default'),
  createdAt: createdAt(),
  revokedAt: timestamp('revoked_at', { withTimezone: true })
})

/** Module recipients: addresses and preferences, keyed by the tenant's own recipient id. */
export const recipients = pgTable('recipients', {
  tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
  id: text('id').notNull(),
  email: text('email'),
  phone: text('phone'),
  locale: text('locale'),
  timezone: text('timezone'),
  createdAt: createdAt(),
  updatedAt: updatedAt()
}, (t) => [primaryKey({ columns: [t.tenantId, t.id] })])

export const recipientPreferences = pgTable('recipient_preferences', {
  tenantId: uuid('tenant_id').notNull(),
  recipientId: text('recipient_id').notNull(),
  channels: jsonb('channels').$type<Record<string, boolean>>().notNull().default({}),
  categories: jsonb('categories').$type<Record<string, Record<string, boolean>>>().notNull().default({}),
  updatedAt: updatedAt()
}, (t) => [primaryKey({ columns: [t.tenantId, t.recipientId] })])

/** Module notifications: what was asked for, one delivery per channel, one row per attempt. */
export interface NotificationContent {
  subject?: string
  text: string
  html?: string
  title?: string
  url?: string
  data?: Record<string, unknown>
}

export const notifications = pgTable('notifications', {
  id: uuid('id').primaryKey().defaultRandom(),
  tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
  recipientId: text('recipient_id').notNull(),
  category: text('category').notNull().default('default'),
  strategy: text('strategy').$type<'all' | 'fallback'>().notNull().default('all'),
  priority: text('priority').$type<'low' | 'normal' | 'high'>(),
  content: jsonb('content').$type<NotificationContent>().notNull(),
  status: text('status').notNull(),
  sendAt: timestamp('send_at', { withTimezone: true }),
  idempotencyKey: text('idempotency_key'),
  requestHash: text('request_hash'),
  acceptedResponse: jsonb('accepted_response'),
  createdAt: createdAt(),
  updatedAt: updatedAt()
}, (t) => [
  uniqueIndex('notifications_tenant_idempotency_key').on(t.tenantId, t.idempotencyKey),
  index('notifications_tenant_created').on(t.tenantId, t.createdAt)
])

export const deliveries = pgTable('deliveries', {
  id: uuid('id').primaryKey().defaultRandom(),
  notificationId: uuid('notification_id').notNull().references(() => notifications.id, { onDelete: 'cascade' }),
  tenantId: uuid('tenant_id').notNull(),
  channel: text('channel').$type<'email' | 'sms' | 'push' | 'inapp'>().notNull(),
  position: integer('position').notNull(),
  status: text('status').notNull(),
  reason: text('reason'),
  attempts: integer('attempts').notNull().default(0),
  providerMessageId: text('provider_message_id'),
  createdAt: createdAt(),
  updatedAt: updatedAt()
}, (t) => [
  uniqueIndex('deliveries_notification_channel').on(t.notificationId, t.channel),
  index('deliveries_provider_message_id').on(t.providerMessageId)
])

export const deliveryAttempts = pgTable('delivery_attempts', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  deliveryId: uuid('delivery_id').notNull().references(() => deliveries.id, { onDelete: 'cascade' }),
  attempt: integer('attempt').notNull(),
  outcome: text('outcome').$type<'sent' | 'retry' | 'failed'>().notNull(),
  reason: text('reason'),
  error: text('error'),
  providerMessageId: text('provider_message_id'),
  durationMs: integer('duration_ms').notNull(),
  createdAt: createdAt()
}, (t) => [index('delivery_attempts_delivery').on(t.deliveryId)])

/** Transactional outbox: jobs written with the rows they refer to, relayed to BullMQ. */
export const outbox = pgTable('outbox', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  queue: text('queue').notNull(),
  jobName: text('job_name').notNull(),
  jobId: text('job_id').notNull(),
  payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
  runAt: timestamp('run_at', { withTimezone: true }),
  createdAt: createdAt()
})

/** Module push: browser subscriptions per recipient. */
export const pushSubscriptions = pgTable('push_subscriptions', {
  id: uuid('id').primaryKey().defaultRandom(),
  tenantId: uuid('tenant_id').notNull(),
  recipientId: text('recipient_id').notNull(),
  endpoint: text('endpoint').notNull(),
  p256dh: text('p256dh').notNull(),
  auth: text('auth').notNull(),
  createdAt: createdAt()
}, (t) => [
  uniqueIndex('push_subscriptions_tenant_endpoint').on(t.tenantId, t.endpoint),
  index('push_subscriptions_recipient').on(t.tenantId, t.recipientId)
])

/** Module inapp: the inbox. */
export const inappMessages = pgTable('inapp_messages', {
  id: uuid('id').primaryKey().defaultRandom(),
  tenantId: uuid('tenant_id').notNull(),
  recipientId: text('recipient_id').notNull(),
  notificationId: uuid('notification_id').notNull(),
  deliveryId: uuid('delivery_id').notNull().unique(),
  title: text('title'),
  text: text('text').notNull(),
  url: text('url'),
  data: jsonb('data').$type<Record<string, unknown>>(),
  createdAt: createdAt(),
  seenAt: timestamp('seen_at', { withTimezone: true }),
  readAt: timestamp('read_at', { withTimezone: true }),
  archivedAt: timestamp('archived_at', { withTimezone: true })
}, (t) => [
  index('inapp_messages_inbox').on(t.tenantId, t.recipientId, t.createdAt.desc(), t.id.desc()),
  index('inapp_messages_unread').on(t.tenantId, t.recipientId).where(sql`read_at is null and archived_at is null`)
])

/**
 * Secrets the system makes for itself when none is configured, shared by every process through
 * the database (the first to insert wins; the others read it): for now the inbox token key.
 */
export const appSecrets = pgTable('app_secrets', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
  createdAt: createdAt()
})

export type Notification = typeof notifications.$inferSelect
export type Delivery = typeof deliveries.$inferSelect
export type Recipient = typeof recipients.$inferSelect
export type InappMessage = typeof inappMessages.$inferSelect
export type PushSubscription = typeof pushSubscriptions.$inferSelect
