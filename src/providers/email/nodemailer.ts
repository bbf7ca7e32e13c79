import nodemailer from 'nodemailer'
import { ProviderError, type SendResult } from '../types.js'

export interface EmailMessage {
  to: string
  subject: string
  text: string
  html?: string
  /** Stable per delivery, so a resend after a crash can be recognised by the receiving side. */
  messageId?: string
}

export interface EmailProvider {
  send: (message: EmailMessage) => Promise<SendResult>
  close: () => Promise<void>
}

const TRANSIENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNRESET', 'ECONNREFUSED', 'EPROTOCOL'])

/** Classifies nodemailer's error: an SMTP 5xx is final, a 4xx or a network failure is worth a retry. */
export function classifySmtpError (err: Error & { responseCode?: number, code?: string }): ProviderError {
  const code = err.responseCode
  if (code !== undefined && code >= 500) {
    return new ProviderError(err.message, { retryable: false, reason: 'provider_rejected' })
  }
  if (code !== undefined && code >= 400) return new ProviderError(err.message, { retryable: true, reason: 'provider_deferred' })
  if (err.code && TRANSIENT_CODES.has(err.code)) return new ProviderError(err.message, { retryable: true, reason: 'provider_unreachable' })
  // An envelope or message nodemailer refused before talking to the server will not get better.
  if (err.code === 'EENVELOPE' || err.code === 'EMESSAGE') return new ProviderError(err.message, { retryable: false, reason: 'invalid_address' })
  return new ProviderError(err.message, { retryable: true, reason: 'provider_error' })
}

/** Email over SMTP with nodemailer's pooled transport. */
export function createNodemailerProvider ({ url, from, poolSize, timeoutMs }: { url: string, from: string, poolSize: number, timeoutMs: number }): EmailProvider {
  const transport = nodemailer.createTransport({
    url,
    pool: true,
    maxConnections: poolSize,
    maxMessages: 1000,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs
  })
  return {
    async send (m) {
      try {
        const info = await transport.sendMail({ from, to: m.to, subject: m.subject, text: m.text, html: m.html, messageId: m.messageId })
        return { providerMessageId: info.messageId }
      } catch (err) {
        throw classifySmtpError(err as Error)
      }
    },
    async close () { transport.close() }
  }
}
