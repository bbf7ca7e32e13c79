// A local Web Push service (RFC 8030) for end-to-end tests: HTTPS with a test CA,
// VAPID (RFC 8292) checked as a real push service checks it, and the aes128gcm body
// (RFC 8291) decrypted with the subscriber's keys, so tests can assert on what a
// browser would really have received.
import { createECDH, createPublicKey, randomBytes, randomUUID, verify, type ECDH } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, createServer } from 'node:https';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { makeTestCerts } from './certs.js';

// http_ece ships no types; this is the one call used.
const ece = createRequire(import.meta.url)('http_ece') as {
  decrypt(body: Buffer, params: { version: 'aes128gcm'; privateKey: ECDH; authSecret: string }): Buffer;
};

export interface Vapid { aud: unknown; exp: unknown; sub: unknown; publicKey: string }

export interface PushMessage {
  id: string;
  headers: IncomingHttpHeaders;
  /** The decrypted body, parsed as JSON when it is JSON, else the text. */
  payload: unknown;
  text: string;
  ttl: number;
  urgency: string | undefined;
  topic: string | undefined;
  vapid: Vapid;
  /** What the peer answered (201 unless scripted otherwise). */
  status: number;
}

/** A request the peer itself refused (auth, encoding, size, unknown subscription). */
export interface Rejected { id: string; headers: IncomingHttpHeaders; status: number; reason: string }

export type PushReply = number | { status: number; retryAfter?: number; body?: string };
export type PushScript = (msg: PushMessage, count: number) => PushReply | undefined;

export interface PushSubscriptionJSON { endpoint: string; keys: { p256dh: string; auth: string } }

export interface PushService {
  /** https://127.0.0.1:PORT */
  origin: string;
  /** The CA certificate: its path for a child's NODE_EXTRA_CA_CERTS, its PEM for `ca` options. */
  caPath: string;
  ca: string;
  /** An https.Agent trusting the CA, for in-process senders (web-push's `agent` option). */
  agent: Agent;
  endpoint(id: string, host?: '127.0.0.1' | 'localhost'): string;
  /** A new subscriber's PushSubscription JSON, as a browser would hand it to the app. */
  subscriber(opts?: { id?: string; host?: '127.0.0.1' | 'localhost'; applicationServerKey?: string }): PushSubscriptionJSON;
  received: PushMessage[];
  rejected: Rejected[];
  script(fn: PushScript | undefined): void;
  close(): Promise<void>;
}

const MAX_BODY = 4096; // RFC 8291 caps push message bodies at 4096 bytes.
const DAY = 24 * 60 * 60;

const b64json = (s: string | undefined): unknown => {
  try { return JSON.parse(Buffer.from(s ?? '', 'base64url').toString()); } catch { return undefined; }
};

/** Why a VAPID Authorization header is refused, or undefined when it is good. */
function checkVapid(vapid: { t?: string; k?: string }, origin: string, requiredKey?: string) {
  const [h, p, s] = (vapid.t ?? '').split('.');
  if (!h || !p || !s || !vapid.k) return 'malformed vapid header';
  if ((b64json(h) as { alg?: string } | undefined)?.alg !== 'ES256') return 'JWT alg is not ES256';
  const k = Buffer.from(vapid.k, 'base64url');
  if (k.length !== 65 || k[0] !== 4) return 'k is not an uncompressed P-256 point';
  const key = createPublicKey({
    format: 'jwk',
    key: { kty: 'EC', crv: 'P-256', x: k.subarray(1, 33).toString('base64url'), y: k.subarray(33).toString('base64url') },
  });
  // JWS ES256 signatures are raw r||s, not DER.
  if (!verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))) {
    return 'bad JWT signature';
  }
  if (requiredKey && requiredKey !== vapid.k) return 'k is not the subscription\'s applicationServerKey';
  const claims = b64json(p) as { aud?: unknown; exp?: unknown; sub?: unknown } | undefined;
  if (claims?.aud !== origin) return `aud ${String(claims?.aud)} is not ${origin}`;
  const now = Date.now() / 1000;
  if (typeof claims.exp !== 'number' || claims.exp <= now || claims.exp > now + DAY) return 'exp is not within the next 24 hours';
  if (typeof claims.sub !== 'string' || !claims.sub) return 'sub missing';
  return undefined;
}

export async function startPushService(): Promise<PushService> {
  const certs = makeTestCerts();
  const subs = new Map<string, { ecdh: ECDH; auth: string; applicationServerKey?: string }>();
  const received: PushMessage[] = [];
  const rejected: Rejected[] = [];
  let script: PushScript | undefined;

  const server = createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const id = decodeURIComponent(/^\/push\/([^/?]+)$/.exec(req.url ?? '')?.[1] ?? '');
      const { headers } = req;
      const refuse = (status: number, reason: string) => {
        rejected.push({ id, headers, status, reason });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(reason);
      };

      const sub = subs.get(id);
      if (req.method !== 'POST' || !sub) return refuse(404, 'no such subscription');
      const auth = /^vapid\s+(.*)$/i.exec(headers.authorization ?? '');
      if (!auth?.[1]) return refuse(401, 'missing vapid authorization');
      const params: { t?: string; k?: string } = Object.fromEntries(
        auth[1].split(',').map((kv) => kv.trim().split('=', 2) as [string, string]),
      );
      const why = checkVapid(params, `https://${headers.host}`, sub.applicationServerKey);
      if (why) return refuse(403, why);
      const ttl = Number(headers.ttl);
      if (headers.ttl === undefined || !Number.isInteger(ttl) || ttl < 0) return refuse(400, 'missing or bad TTL header');
      if (body.length > MAX_BODY) return refuse(413, 'payload too large');
      let text = '';
      if (body.length > 0) {
        if (headers['content-encoding'] !== 'aes128gcm') return refuse(415, 'content-encoding must be aes128gcm');
        try {
          text = ece.decrypt(body, { version: 'aes128gcm', privateKey: sub.ecdh, authSecret: sub.auth }).toString();
        } catch (err) {
          return refuse(400, `cannot decrypt: ${String(err)}`);
        }
      }
      let payload: unknown = text;
      try { payload = JSON.parse(text); } catch { /* text it stays */ }
      const claims = b64json(params.t?.split('.')[1]) as { aud: unknown; exp: unknown; sub: unknown };
      const msg: PushMessage = {
        id, headers, payload, text, ttl, urgency: headers.urgency as string | undefined,
        topic: headers.topic as string | undefined,
        vapid: { aud: claims.aud, exp: claims.exp, sub: claims.sub, publicKey: params.k ?? '' },
        status: 201,
      };
      received.push(msg);

      const r = script?.(msg, received.length);
      const reply = typeof r === 'number' ? { status: r } : (r ?? { status: 201 });
      msg.status = reply.status;
      res.writeHead(reply.status, {
        ...(reply.status === 201 ? { location: `https://${headers.host}/message/${randomUUID()}` } : {}),
        ...(reply.retryAfter === undefined ? {} : { 'retry-after': String(reply.retryAfter) }),
      });
      res.end(reply.body ?? '');
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new Agent({ ca: certs.ca, keepAlive: false });
  const endpoint = (id: string, host = '127.0.0.1') => `https://${host}:${port}/push/${encodeURIComponent(id)}`;

  return {
    origin: `https://127.0.0.1:${port}`,
    caPath: certs.caPath,
    ca: certs.ca,
    agent,
    endpoint,
    subscriber({ id = randomUUID(), host, applicationServerKey } = {}) {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16).toString('base64url');
      subs.set(id, { ecdh, auth, applicationServerKey });
      return { endpoint: endpoint(id, host), keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth } };
    },
    received,
    rejected,
    script(fn) { script = fn; },
    async close() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      certs.remove();
    },
  };
}
