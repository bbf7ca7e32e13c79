import { chromium } from 'playwright-core'
import t from 'tap'
import { baseEnv, client, createTestDatabase, spawnRole, waitFor } from '../helper.js'

const CHROMIUM = '/usr/bin/chromium'

t.test('the inbox page in headless Chromium: lists, counts, marks read on click, updates live', async (t) => {
  const dbUrl = await createTestDatabase(t)
  const role = await spawnRole(t, 'all', baseEnv(dbUrl))
  const api = client(role.url)
  const send = async (content: Record<string, unknown>) => {
    const res = await api.post('/notifications', { recipient: { id: 'ada' }, channels: ['inapp'], content })
    t.equal(res.status, 202, JSON.stringify(res.body))
    return res.body.id as string
  }
  const unread = async () => (await api.get('/inbox/ada/unread-count')).body.count as number

  await send({ title: 'Welcome', text: 'Hello Ada', url: 'https://example.com/welcome' })
  // The worker stores jobs concurrently: the second is sent once the first is stored, so the order is known.
  await waitFor(async () => (await unread()) === 1, { what: 'the first message in the inbox' })
  await send({ title: 'Careful', text: '<img src=x onerror="document.title=1">', url: 'javascript:alert(1)' })
  await waitFor(async () => (await unread()) === 2, { what: 'both messages in the inbox' })
  const { token } = (await api.post('/recipients/ada/inbox-token')).body

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  const problems: string[] = []
  page.on('pageerror', (err) => problems.push(err.message))
  page.on('console', (msg) => { if (msg.type() === 'error' && !/favicon|404/.test(msg.text())) problems.push(msg.text()) })

  const response = await page.goto(`${role.url}/inbox?recipient=ada&token=${encodeURIComponent(token)}`)
  t.equal(response?.status(), 200)
  t.match(response?.headers()['content-security-policy'], /default-src 'none'.*script-src 'self'/, 'a strict CSP')
  t.equal(response?.headers()['referrer-policy'], 'no-referrer', 'the token in the address never leaves as a Referer')

  const items = page.locator('li.message')
  await items.nth(1).waitFor()
  t.equal(await items.count(), 2, 'both messages are listed')
  t.equal(await page.locator('#count').textContent(), '2', 'the unread count is shown')
  t.equal(await items.nth(0).locator('.text').textContent(), '<img src=x onerror="document.title=1">', 'text is shown as text')
  t.equal(await page.locator('li.message img').count(), 0, 'and never as markup')
  t.equal(await items.nth(0).locator('a').count(), 0, 'a javascript: link is not followed')
  t.equal(await items.nth(1).locator('.title').textContent(), 'Welcome')
  t.equal(await items.nth(1).locator('a').getAttribute('href'), 'https://example.com/welcome', 'an https link is')
  t.equal(await items.nth(1).locator('a').getAttribute('rel'), 'noopener noreferrer')
  t.match(await items.nth(1).locator('time').getAttribute('datetime'), /^\d{4}-\d{2}-\d{2}T/)
  t.equal(await page.locator('li.message.unread').count(), 2, 'both are marked unread')

  await items.nth(0).locator('.text').click()
  await page.locator('#count').filter({ hasText: /^1$/ }).waitFor()
  t.equal(await page.locator('li.message.unread').count(), 1, 'the clicked message is no longer shown unread')
  t.equal(await unread(), 1, 'the server agrees: one unread')
  const stored = (await api.get('/inbox/ada/messages?status=read')).body.items
  t.equal(stored.length, 1)
  t.equal(stored[0].title, 'Careful', 'the clicked message is the one read')

  await send({ title: 'Live', text: 'Arrived while the page was open' })
  await page.locator('li.message', { hasText: 'Arrived while the page was open' }).waitFor()
  t.equal(await items.count(), 3, 'the new message appeared without a reload')
  t.equal(await items.nth(0).locator('.title').textContent(), 'Live', 'at the top')
  await page.locator('#count').filter({ hasText: /^2$/ }).waitFor()
  t.equal(await page.locator('#count').textContent(), '2', 'and the count went up')

  await page.locator('#read-all').click()
  await page.locator('#count').filter({ hasText: /^0$/ }).waitFor()
  t.equal(await unread(), 0, 'mark all read: the server agrees')
  t.equal(await page.title(), 'Inbox', 'no injected script ran')
  t.same(problems, [], 'no script errors and no CSP violations')
})

t.test('the page without a token explains itself; with a bad token it says so', async (t) => {
  const dbUrl = await createTestDatabase(t)
  const role = await spawnRole(t, 'inapp-service', baseEnv(dbUrl))
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  await page.goto(`${role.url}/inbox`)
  t.match(await page.locator('#status').textContent(), /recipient=.*token=/, 'it says how to open it')
  await page.goto(`${role.url}/inbox?recipient=ada&token=it1.bad.token`)
  await page.locator('#status').filter({ hasText: /invalid or expired/ }).waitFor()
  t.pass('a refused token is reported on the page')
})
