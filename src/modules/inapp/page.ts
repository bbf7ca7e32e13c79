import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { PAGE_CSS, PAGE_JS, PAGE_HTML } from './page-assets.js'

// Nothing but this origin's own script, style and API; no inline code, no framing, no referrer
// (the page's address holds the token, and a message's link must not carry it away).
const CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"
].join('; ')

const common = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-cache' }

/** The inbox page: public HTML; its data calls need the recipient's token. */
export const inboxPage: FastifyPluginAsyncTypebox = async (app) => {
  const Text = Type.String()
  const asset = (path: string, type: string, body: string) => app.get(path, { schema: { response: { 200: Text } } }, async (_request, reply) =>
    await reply.headers({ ...common, 'content-type': type }).send(body))

  app.get('/inbox', {
    schema: { querystring: Type.Object({ recipient: Type.Optional(Type.String()), token: Type.Optional(Type.String()) }), response: { 200: Text } }
  }, async (_request, reply) => await reply.headers({
    ...common, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP, 'x-frame-options': 'DENY'
  }).send(PAGE_HTML))
  asset('/inbox/inbox.js', 'text/javascript; charset=utf-8', PAGE_JS)
  asset('/inbox/inbox.css', 'text/css; charset=utf-8', PAGE_CSS)
}
