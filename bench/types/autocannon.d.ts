// The part of autocannon's API the benchmark uses (the package ships no types).
declare module 'autocannon' {
  namespace autocannon {
    interface Options {
      url: string
      connections?: number
      amount?: number
      duration?: number
      overallRate?: number
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
  function autocannon (opts: autocannon.Options): Promise<autocannon.Result>
  export default autocannon
}
