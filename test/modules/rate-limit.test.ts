import t from 'tap'
import { auth, baseEnv, buildTestApp, createTestDatabase } from '../helper.js'

t.test('over RATE_LIMIT_MAX per window a tenant gets 429 with Retry-After; health stays open', async (t) => {
  const db = await createTestDatabase(t)
  const app = await buildTestApp(t, baseEnv(db, { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' }))
  const codes: number[] = []
  for (let i = 0; i < 5; i++) codes.push((await app.inject({ method: 'GET', url: '/recipients/nobody', headers: auth() })).statusCode)
  t.same(codes, [404, 404, 404, 429, 429], 'three answered, then limited')
  const limited = await app.inject({ method: 'GET', url: '/recipients/nobody', headers: auth() })
  t.equal(limited.statusCode, 429)
  t.ok(Number(limited.headers['retry-after']) > 0, `Retry-After: ${limited.headers['retry-after']}`)
  t.match(limited.json(), { statusCode: 429, error: 'Too Many Requests', message: /rate limit|retry/i })
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200, 'health is not rate limited')
  t.equal((await app.inject({ method: 'GET', url: '/recipients/nobody' })).statusCode, 401, 'no key: 401 before any limit')
})
