import fp from 'fastify-plugin'
import { Type } from 'typebox'

const withTimeout = async <T>(p: Promise<T>, ms: number): Promise<T> =>
  await Promise.race([p, new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref())])

/** /health says the process runs; /ready says its dependencies answer. Neither needs credentials. */
export default fp(async function healthPlugin (app) {
  app.get('/health', {
    logLevel: 'warn',
    schema: { response: { 200: Type.Object({ status: Type.Literal('ok') }) } }
  }, async () => ({ status: 'ok' as const }))

  app.get('/ready', { logLevel: 'warn' }, async (_request, reply) => {
    const checks = await Promise.allSettled([
      withTimeout(app.pool.query('select 1'), 2000),
      withTimeout(app.redis.ping(), 2000)
    ])
    const failing = (['postgres', 'redis'] as const).flatMap((name, i) => {
      const c = checks[i]
      return c?.status === 'rejected' ? [{ name, reason: String((c.reason as Error | undefined)?.message ?? 'unreachable') }] : []
    })
    if (failing.length === 0) return { status: 'ready' }
    reply.code(503)
    return {
      status: 'unavailable',
      failing: failing.map((f) => f.name),
      message: failing.map((f) => `${f.name}: ${f.reason}`).join('; ')
    }
  })
}, { name: 'health', dependencies: ['db', 'redis'] })
