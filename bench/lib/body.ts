import type { NotificationBody } from '../../src/modules/notifications/schema.js'

export type BenchChannel = 'email' | 'inapp'

/**
 * The notification every scenario sends, and the ceilings write or send: a transactional email
 * of a realistic size, or an in-app message. `n` makes each recipient distinct (email), or picks
 * one of `inboxes` recipients whose streams the benchmark listens to (in-app).
 */
export function notificationBody (channel: BenchChannel, n: number, run: string, inboxes = 0): NotificationBody {
  if (channel === 'inapp') {
    return {
      recipient: { id: inboxId(run, n % Math.max(1, inboxes)) },
      channels: ['inapp'],
      category: 'account',
      content: { title: 'Your order shipped', text: `Order ${n} is on its way and arrives on Thursday.`, url: 'https://shop.example.com/orders/' + n, data: { orderId: n } }
    }
  }
  return {
    recipient: { id: `user-${run}-${n}`, email: `user${n}@bench.example.com` },
    channels: ['email'],
    category: 'account',
    content: emailContent(n)
  }
}

export const inboxId = (run: string, i: number) => `inbox-${run}-${i}`

export function emailContent (n: number) {
  return {
    subject: `Your receipt for order ${n}`,
    text: `Hello,\n\nThank you for your order ${n}. We received your payment of 42.00 EUR and will send the parcel tomorrow.\n\nThe shop team`,
    html: `<p>Hello,</p><p>Thank you for your order <b>${n}</b>. We received your payment of 42.00 EUR and will send the parcel tomorrow.</p><p>The shop team</p>`
  }
}

export const EMAIL_FROM = 'Bench shop <noreply@bench.example.com>'
export const API_KEY = 'bench_' + 'k'.repeat(40)
