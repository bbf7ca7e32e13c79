// Checks the push peer against the real web-push library, in process (through the
// peer's https.Agent) and in a child process (through NODE_EXTRA_CA_CERTS).
import { execFile } from 'node:child_process';
import { request } from 'node:https';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import webpush, { type WebPushError } from 'web-push';
import { startPushService, type PushService } from './push-service.js';

const vapidKeys = webpush.generateVAPIDKeys();
const vapidDetails = { subject: 'mailto:ops@example.com', ...vapidKeys };

const start = async (t: Test) => {
  const peer = await startPushService();
  t.teardown(() => peer.close());
  return peer;
};

// Sends web-push's own request, with the Authorization header swapped, to test refusals.
const sendForged = (peer: PushService, sub: webpush.PushSubscription, authorization: string | undefined) => {
  const d = webpush.generateRequestDetails(sub, 'x', { vapidDetails, TTL: 60 });
  const headers: Record<string, string | number> = { ...(d.headers as Record<string, string | number>) };
  if (authorization === undefined) delete headers.Authorization;
  else headers.Authorization = authorization;
  return new Promise<number>((resolve, reject) => {
    const req = request(d.endpoint, { method: 'POST', headers, agent: peer.agent }, (res) => {
      res.resume().on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject).end(d.body);
  });
};

t.test('web-push delivers; the peer decrypts and records TTL, urgency and VAPID', async (t) => {
  const peer = await start(t);
  const sub = peer.subscriber();
  t.match(sub.endpoint, new RegExp(`^${peer.origin}/push/[0-9a-f-]{36}$`));
  const res = await webpush.sendNotification(sub, JSON.stringify({ title: 'Hi', n: 1 }), {
    vapidDetails, TTL: 120, urgency: 'high', topic: 'inbox', agent: peer.agent,
  });
  t.equal(res.statusCode, 201);
  t.match(res.headers.location, new RegExp(`^${peer.origin}/message/`));
  t.equal(peer.received.length, 1);
  const [m] = peer.received;
  t.same(m?.payload, { title: 'Hi', n: 1 });
  t.equal(m?.ttl, 120);
  t.equal(m?.urgency, 'high');
  t.equal(m?.topic, 'inbox');
  t.equal(m?.vapid.aud, peer.origin);
  t.equal(m?.vapid.sub, vapidDetails.subject);
  t.equal(m?.vapid.publicKey, vapidKeys.publicKey);
  t.ok(typeof m?.vapid.exp === 'number' && m.vapid.exp > Date.now() / 1000);
  t.equal(m?.headers['content-encoding'], 'aes128gcm');
});

t.test('localhost endpoints work too, and text payloads stay text', async (t) => {
  const peer = await start(t);
  const sub = peer.subscriber({ id: 'abc', host: 'localhost' });
  t.equal(sub.endpoint, peer.endpoint('abc', 'localhost'));
  await webpush.sendNotification(sub, 'plain text', { vapidDetails, agent: peer.agent });
  t.match(peer.received[0], { id: 'abc', payload: 'plain text', urgency: 'normal', vapid: { aud: sub.endpoint.replace('/push/abc', '') } });
});

t.test('a child process trusts the peer through NODE_EXTRA_CA_CERTS', async (t) => {
  const peer = await start(t);
  const sub = peer.subscriber();
  const code = `require('web-push').sendNotification(${JSON.stringify(sub)}, 'from child',
    { vapidDetails: ${JSON.stringify(vapidDetails)} }).then((r) => console.log(r.statusCode))`;
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_EXTRA_CA_CERTS: peer.caPath };
  delete env.NODE_OPTIONS; // tap's TypeScript loader is not needed for plain JS
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', code], { env });
  t.equal(stdout.trim(), '201');
  t.equal(peer.received[0]?.payload, 'from child');
});

t.test('without the CA, the certificate is refused', async (t) => {
  const peer = await start(t);
  await t.rejects(webpush.sendNotification(peer.subscriber(), 'x', { vapidDetails }), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
});

t.test('bad VAPID is refused: missing 401, bad signature / wrong aud / expired 403', async (t) => {
  const peer = await start(t);
  const sub = peer.subscriber();
  const other = webpush.generateVAPIDKeys();
  const header = (aud: string, priv = vapidKeys.privateKey, exp?: number) =>
    webpush.getVapidHeaders(aud, vapidDetails.subject, vapidKeys.publicKey, priv, 'aes128gcm', exp).Authorization;

  t.equal(await sendForged(peer, sub, header(peer.origin)), 201, 'the forging helper itself is sound');
  t.equal(await sendForged(peer, sub, undefined), 401);
  t.equal(await sendForged(peer, sub, header(peer.origin, other.privateKey)), 403);
  t.equal(await sendForged(peer, sub, header('https://push.example.com')), 403);
  t.equal(await sendForged(peer, sub, header(peer.origin, vapidKeys.privateKey, Math.floor(Date.now() / 1000) - 60)), 403);
  t.same(peer.rejected.map((r) => r.reason.replace(/ https.*/, '')), [
    'missing vapid authorization', 'bad JWT signature', 'aud', 'exp is not within the next 24 hours',
  ]);

  // web-push reports a refusal as WebPushError with statusCode, headers and body.
  const wrongKey = peer.subscriber({ applicationServerKey: other.publicKey });
  const err = (await webpush.sendNotification(wrongKey, 'x', { vapidDetails, agent: peer.agent }).catch((e: unknown) => e)) as WebPushError;
  t.type(err, webpush.WebPushError);
  t.match(err, { statusCode: 403, body: /applicationServerKey/, endpoint: wrongKey.endpoint });
});

t.test('scripted answers: 404, 410, 429 with Retry-After, 500; 413 for oversize', async (t) => {
  const peer = await start(t);
  const sub = peer.subscriber();
  const send = (payload: string) =>
    webpush.sendNotification(sub, payload, { vapidDetails, agent: peer.agent }).then(
      (r) => ({ statusCode: r.statusCode, headers: r.headers }),
      (e: WebPushError) => ({ statusCode: e.statusCode, headers: e.headers }),
    );
  const replies = [404, 410, { status: 429, retryAfter: 30 }, 500];
  peer.script((_m, n) => replies[n - 1]);
  t.equal((await send('a')).statusCode, 404);
  t.equal((await send('b')).statusCode, 410);
  const limited = await send('c');
  t.equal(limited.statusCode, 429);
  t.equal(limited.headers['retry-after'], '30');
  t.equal((await send('d')).statusCode, 500);
  t.equal((await send('e')).statusCode, 201, 'script returning undefined means 201');
  t.same(peer.received.map((m) => m.status), [404, 410, 429, 500, 201]);

  t.equal((await send('x'.repeat(5000))).statusCode, 413);
  t.equal(peer.received.length, 5, 'refused messages are not received');
  t.match(peer.rejected, [{ status: 413 }]);
});

t.test('unknown subscriptions get 404', async (t) => {
  const peer = await start(t);
  const sub = { ...peer.subscriber(), endpoint: peer.endpoint('gone') };
  const err = await webpush.sendNotification(sub, 'x', { vapidDetails, agent: peer.agent }).catch((e: unknown) => e);
  t.match(err, { statusCode: 404, body: 'no such subscription' });
});
