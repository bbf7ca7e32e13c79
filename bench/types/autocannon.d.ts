// The part of autocannon's API the benchmark uses (the package ships no types).
declare module 'autocannon' {
  namespace autocannon {
    interface Options {
      url: string
      connections?: number
      amount?: number
      duration?: number
      overallRate?: number
      connectionRate?: number
      timeout?: number
      headers?: Record<string, string>
      requests?: Array<{ method?: string, path?: string, body?: string, setupRequest?: (req: Record<string, unknown>) => Record<string, unknown> }>
    }
    interface Histogram { p50: number, p90: number, p99: number, max: number, mean: number, average: number, sent: number }
    interface Result {
      duration: number
      errors: number
      timeouts: number
      non2xx: number
      '2xx': number
      statusCodeStats?: Record<string, { count: number }>
      latency: Histogram
      requests: Histogram
    }
  }
  interface Instance extends PromiseLike<autocannon.Result> {
    on: (event: 'response', listener: (client: unknown, statusCode: number, bytes: number, responseTimeMs: number) => void) => Instance
    stop: () => void
  }
  function autocannon (opts: autocannon.Options): Instance
  export default autocannon
}
