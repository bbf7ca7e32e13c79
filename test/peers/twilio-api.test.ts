// Checks the Twilio peer against the real twilio client library, so end-to-end
// tests built on the peer exercise what production code will really see.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { OriginRequestClient, startTwilioApi, type RestExceptionWithHeaders } from './twilio-api.js';

const accountSid = 'AC' + '0123456789abcdef'.repeat(2);
const authToken = 'test-auth-token';
const msg = { to: '+15005550006', from: '+15005550001', body: 'hello' };

const start = async (t: Test, statusCallbackDelayMs?: number) => {
  const peer = await startTwilioApi({ accountSid, authToken, statusCallbackDelayMs });
  t.teardown(() => peer.close());
  const client = twilio(accountSid, authToken, { httpClient: new OriginRequestClient(peer.origin) });
  return { peer, client };
};

// A receiver for status callbacks, as the code under test would run one.
const startReceiver = async (t: Test) => {
  const got: Array<{ url: string; signature: string; params: Record<string, string> }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      got.push({
        url: `http://${req.headers.host}${req.url}`,
        signature: String(req.headers['x-twilio-signature']),
        params: Object.fromEntries(new URLSearchParams(body)),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/sms/status?tenant=a`, got };
};

t.test('the twilio client creates a message and gets the sid back', async (t) => {
  const { peer, client } = await start(t);
  const m = await client.messages.create({ ...msg, statusCallback: 'http://127.0.0.1:9/cb' });
  t.match(m.sid, /^SM[0-9a-f]{32}$/);
  t.equal(m.status, 'queued');
  t.equal(m.accountSid, accountSid);
  t.equal(m.to, msg.to);
  t.equal(m.body, msg.body);
  t.ok(m.dateCreated instanceof Date && !Number.isNaN(m.dateCreated.getTime()), 'date_created parses');
  t.equal(peer.messages.length, 1);
  const [rec] = peer.messages;
  t.ok(rec?.authOk);
  t.equal(rec?.sid, m.sid);
  t.same(rec?.form, { To: msg.to, From: msg.from, Body: msg.body, StatusCallback: 'http://127.0.0.1:9/cb' });
  t.match(rec?.headers['user-agent'], /^twilio-node\//);
});

t.test('wrong credentials get 401 with code 20003', async (t) => {
  const { peer } = await start(t);
  const client = twilio(accountSid, 'wrong', { httpClient: new OriginRequestClient(peer.origin) });
  const err = await client.messages.create(msg).catch((e: unknown) => e);
  t.type(err, twilio.RestException);
  t.match(err, { status: 401, code: 20003, message: 'Authenticate' });
  t.equal(peer.messages[0]?.authOk, false);
});

t.test('missing fields get the Twilio validation codes', async (t) => {
  const { client } = await start(t);
  t.match(await client.messages.create({ to: msg.to, from: msg.from }).catch((e: unknown) => e), { status: 400, code: 21602 });
  t.match(await client.messages.create({ to: msg.to, body: 'x' }).catch((e: unknown) => e), { status: 400, code: 21603 });
});

t.test('scripted errors surface as RestException', async (t) => {
  const { peer, client } = await start(t);
  peer.script((_req, count) => (count === 1 ? { status: 400, code: 21211 } : count === 2 ? { status: 400, code: 21610 } : undefined));
  const e1 = await client.messages.create(msg).catch((e: unknown) => e);
  t.type(e1, twilio.RestException);
  t.match(e1, { status: 400, code: 21211, moreInfo: 'https://www.twilio.com/docs/errors/21211' });
  t.match(await client.messages.create(msg).catch((e: unknown) => e), { status: 400, code: 21610 });
  t.match(await client.messages.create(msg), { status: 'queued' }, 'script returning undefined means normal');

  peer.script(() => ({ status: 503 }));
  t.match(await client.messages.create(msg).catch((e: unknown) => e), { status: 503, code: 20503 });
  t.same(peer.messages.map((m) => m.status), [400, 400, 201, 503]);
});

t.test('429 exposes Retry-After through OriginRequestClient', async (t) => {
  const { peer, client } = await start(t);
  peer.script(() => ({ status: 429, retryAfter: 2 }));
  const err = (await client.messages.create(msg).catch((e: unknown) => e)) as RestExceptionWithHeaders;
  t.type(err, twilio.RestException);
  t.match(err, { status: 429, code: 20429 });
  t.equal(err.headers['retry-after'], '2');
});

t.test("twilio's own RestException drops headers; only the shared lastResponse has them", async (t) => {
  const { peer } = await start(t);
  // Origin rewriting alone, without OriginRequestClient's error handling.
  class Plain extends twilio.RequestClient {
    override request<T>(o: RequestClient.RequestOptions<T>) {
      return super.request({ ...o, uri: o.uri.replace('https://api.twilio.com', peer.origin) });
    }
  }
  const client = twilio(accountSid, authToken, { httpClient: new Plain() });
  peer.script(() => ({ status: 429, retryAfter: 7 }));
  const err = await client.messages.create(msg).catch((e: unknown) => e);
  t.match(err, { status: 429, code: 20429 });
  t.notOk('headers' in (err as object), 'RestException has no headers');
  t.equal(client.httpClient.lastResponse?.headers['retry-after'], '7');
});

t.test('a destroyed socket is a network error, a delay is a timeout', async (t) => {
  const { peer, client } = await start(t);
  peer.script(() => ({ status: 201, destroy: true }));
  t.match(await client.messages.create(msg).catch((e: unknown) => e), { code: 'ECONNRESET' });
  peer.script(() => ({ status: 201, delayMs: 500 }));
  const slow = twilio(accountSid, authToken, { httpClient: new OriginRequestClient(peer.origin, { timeout: 100 }) });
  t.match(await slow.messages.create(msg).catch((e: unknown) => e), { code: 'ECONNABORTED' });
});

t.test('status callbacks are signed so that twilio.validateRequest accepts them', async (t) => {
  const { peer, client } = await start(t);
  const rx = await startReceiver(t);
  const m = await client.messages.create({ ...msg, statusCallback: rx.url });

  const cb = await peer.sendStatus(m.sid, 'undelivered', { errorCode: 30003 });
  t.equal(cb.status, 204);
  const [got] = rx.got;
  t.equal(got?.url, rx.url);
  t.match(got?.params, { MessageSid: m.sid, MessageStatus: 'undelivered', AccountSid: accountSid, To: msg.to, From: msg.from, ErrorCode: '30003' });
  t.ok(twilio.validateRequest(authToken, got?.signature ?? '', rx.url, got?.params ?? {}), 'good signature accepted');

  await peer.sendStatus(m.sid, 'delivered', { badSignature: true });
  const bad = rx.got[1];
  t.equal(bad?.params.MessageStatus, 'delivered');
  t.notOk(twilio.validateRequest(authToken, bad?.signature ?? '', rx.url, bad?.params ?? {}), 'bad signature refused');

  // An explicit URL (string form) for a sid the peer never created.
  await peer.sendStatus('SM' + '0'.repeat(32), 'failed', rx.url);
  t.equal(rx.got[2]?.params.MessageSid, 'SM' + '0'.repeat(32));
  await t.rejects(peer.sendStatus('SMunknown', 'sent'), /no StatusCallback/);
});

t.test('statusCallbackDelayMs sends sent then delivered', async (t) => {
  const { client } = await start(t, 20);
  const rx = await startReceiver(t);
  const m = await client.messages.create({ ...msg, statusCallback: rx.url });
  for (const deadline = Date.now() + 2000; rx.got.length < 2 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 10));
  t.same(rx.got.map((g) => g.params.MessageStatus), ['sent', 'delivered']);
  t.ok(rx.got.every((g) => g.params.MessageSid === m.sid && twilio.validateRequest(authToken, g.signature, rx.url, g.params)));
});
