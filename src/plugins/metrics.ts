import fp from 'fastify-plugin'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export interface Metrics {
  registry: Registry
  deliveries: Counter<'channel' | 'status'>
  providerLatency: Histogram<'channel' | 'outcome'>
}

/** One registry per app (tests build several apps in one process), served at /metrics. */
export default fp(async function metricsPlugin (app) {
  const registry = new Registry()
  registry.setDefaultLabels({ role: app.config.SERVICE_ROLE })
  collectDefaultMetrics({ register: registry })

  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by route, method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry]
  })
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['route', 'method'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry]
  })
  const metrics: Metrics = {
    registry,
    deliveries: new Counter({
      name: 'deliveries_total',
      help: 'Deliveries that reached a final status, by channel and status',
      labelNames: ['channel', 'status'] as const,
      registers: [registry]
    }),
    providerLatency: new Histogram({
      name: 'provider_send_duration_seconds',
      help: 'Time a provider took to take or refuse a message',
      labelNames: ['channel', 'outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry]
    })
  }
  new Gauge({
    name: 'queue_depth',
    help: 'Jobs waiting, delayed or active, by queue',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect () {
      const depth = await app.queues.depth().catch(() => ({}))
      for (const [queue, n] of Object.entries(depth)) this.set({ queue }, n)
    }
  })

  app.decorate('metrics', metrics)
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    requests.inc({ route, method: request.method, status: reply.statusCode })
    duration.observe({ route, method: request.method }, reply.elapsedTime / 1000)
  })
  app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
    reply.type(registry.contentType)
    return await registry.metrics()
  })
}, { name: 'metrics', dependencies: ['queues'] })
