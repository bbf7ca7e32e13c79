// A local stand-in for Twilio's Messages API (2010-04-01), for end-to-end tests.
// It speaks the wire format the real twilio client expects (Basic auth, form body,
// 201 with Twilio's Message JSON, Twilio's error JSON) and signs its status
// callbacks the way Twilio does, so the code under test runs unchanged against it.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';

export type MessageStatus =
  | 'accepted' | 'scheduled' | 'canceled' | 'queued' | 'sending' | 'sent'
  | 'failed' | 'delivered' | 'undelivered' | 'receiving' | 'received' | 'read';

export interface Received {
  method: string;
  path: string;
  /** The parsed form body (first value of each field). */
  form: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Whether the Basic credentials matched the account SID and auth token. */
  authOk: boolean;
  /** The HTTP status the peer answered (undefined when the socket was destroyed). */
  status?: number;
  /** The SID of the message created, when the answer was 201. */
  sid?: string;
}

/** What a script may answer instead of the normal 201. `undefined` means "behave normally". */
export interface Reply {
  /** 2xx creates the message as usual (after delayMs); anything else sends Twilio's error JSON. */
  status: number;
  /** Twilio error code; defaults by status (400 → 21211, 429 → 20429, 503 → 20503, ...). */
  code?: number;
  message?: string;
  /** Seconds, sent as the Retry-After header. */
  retryAfter?: number;
  /** Wait this long before answering (to exercise client timeouts). */
  delayMs?: number;
  /** Destroy the socket without answering (a network failure). */
  destroy?: boolean;
}

export type Script = (req: Received, count: number) => Reply | undefined;

export interface SendStatusOptions {
  /** Where to POST; defaults to the message's StatusCallback. */
  url?: string;
  /** Sent as ErrorCode (Twilio includes it for failed / undelivered). */
  errorCode?: number;
  /** Sign with the wrong key, so the receiver must refuse it. */
  badSignature?: boolean;
}

export interface Callback {
  sid: string;
  url: string;
  params: Record<string, string>;
  signature: string;
  /** The receiver's HTTP answer, or the network error. */
  status?: number;
  error?: string;
}

export interface TwilioApi {
  /** e.g. http://127.0.0.1:41234 — give it to OriginRequestClient. */
  origin: string;
  messages: Received[];
  callbacks: Callback[];
  script(fn: Script | undefined): void;
  sendStatus(sid: string, status: MessageStatus, opts?: string | SendStatusOptions): Promise<Callback>;
  close(): Promise<void>;
}

// Twilio's own texts for the codes tests are likely to script.
const ERRORS: Record<number, string> = {
  20003: 'Authenticate',
  20404: 'The requested resource was not found',
  20429: 'Too Many Requests',
  20500: 'An internal server error has occurred',
  20503: 'Service is unavailable. Please try again',
  21211: "Invalid 'To' Phone Number",
  21602: 'Message body is required.',
  21603: "A 'From' phone number is required.",
  21604: "A 'To' phone number is required.",
  21610: 'Attempt to send to unsubscribed recipient',
  21614: "'To' number is not a valid mobile number",
};
const DEFAULT_CODE: Record<number, number> = { 400: 21211, 401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503 };

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
// Twilio's dates are RFC 2822 with "+0000"; the client parses exactly that form.
const rfc2822 = (d: Date) => d.toUTCString().replace('GMT', '+0000');

export async function startTwilioApi(opts: {
  accountSid: string;
  authToken: string;
  /** When set, each created message with a StatusCallback gets "sent" then "delivered", this far apart. */
  statusCallbackDelayMs?: number;
}): Promise<TwilioApi> {
  const { accountSid, authToken } = opts;
  const messages: Received[] = [];
  const callbacks: Callback[] = [];
  const created = new Map<string, Record<string, string>>();
  const timers = new Set<NodeJS.Timeout>();
  let script: Script | undefined;

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => { timers.delete(t); fn(); }, ms);
    timers.add(t);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form: Record<string, string> = {};
      for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString())) form[k] ??= v;
      const [user, ...pass] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
        .toString().split(':');
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const rec: Received = {
        method: req.method ?? '', path, form, headers: req.headers,
        authOk: user === accountSid && pass.join(':') === authToken,
      };
      messages.push(rec);

      const send = (status: number, body: object, headers: Record<string, string> = {}) => {
        rec.status = status;
        res.writeHead(status, {
          'content-type': 'application/json; charset=utf-8',
          'twilio-request-id': 'RQ' + hex(16),
          ...headers,
        });
        res.end(JSON.stringify(body));
      };
      const fail = (status: number, code: number, message?: string, headers?: Record<string, string>) =>
        send(status, {
          code, message: message ?? ERRORS[code] ?? 'Error',
          more_info: `https://www.twilio.com/docs/errors/${code}`, status,
        }, headers);

      if (!rec.authOk) return fail(401, 20003);
      const route = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(path);
      if (req.method !== 'POST' || route?.[1] !== accountSid) {
        return fail(404, 20404, `The requested resource ${path} was not found`);
      }

      const reply = script?.(rec, messages.length);
      const answer = () => {
        if (reply?.destroy) return req.socket.destroy();
        if (reply && (reply.status < 200 || reply.status > 299)) {
          const code = reply.code ?? DEFAULT_CODE[reply.status] ?? 20500;
          const headers: Record<string, string> =
            reply.retryAfter === undefined ? {} : { 'retry-after': String(reply.retryAfter) };
          return fail(reply.status, code, reply.message, headers);
        }
        if (!form.To) return fail(400, 21604);
        if (!form.From && !form.MessagingServiceSid) return fail(400, 21603);
        if (!form.Body && !form.MediaUrl && !form.ContentSid) return fail(400, 21602);
        send(201, createMessage(rec));
      };
      if (reply?.delayMs) later(reply.delayMs, answer);
      else answer();
    });
  });

  const createMessage = (rec: Received) => {
    const sid = 'SM' + hex(16);
    const now = rfc2822(new Date());
    const uri = `/2010-04-01/Accounts/${accountSid}/Messages/${sid}`;
    rec.sid = sid;
    created.set(sid, rec.form);
    if (opts.statusCallbackDelayMs !== undefined && rec.form.StatusCallback) {
      const ms = opts.statusCallbackDelayMs;
      later(ms, () => void api.sendStatus(sid, 'sent').then(() => later(ms, () => void api.sendStatus(sid, 'delivered'))));
    }
    // The fields and shapes of Twilio's real answer to a create.
    return {
      account_sid: accountSid, api_version: '2010-04-01', body: rec.form.Body ?? '',
      date_created: now, date_sent: null, date_updated: now, direction: 'outbound-api',
      error_code: null, error_message: null, from: rec.form.From ?? null,
      messaging_service_sid: rec.form.MessagingServiceSid ?? null, num_media: '0',
      num_segments: String(Math.max(1, Math.ceil((rec.form.Body ?? '').length / 160))),
      price: null, price_unit: 'USD', sid, status: 'queued',
      subresource_uris: { media: `${uri}/Media.json` }, to: rec.form.To, uri: `${uri}.json`,
    };
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const api: TwilioApi = {
    origin: `http://127.0.0.1:${port}`,
    messages,
    callbacks,
    script(fn) { script = fn; },

    async sendStatus(sid, status, o) {
      const { url: given, errorCode, badSignature } = typeof o === 'string' ? { url: o } : (o ?? {});
      const form = created.get(sid);
      const url = given ?? form?.StatusCallback;
      if (!url) throw new Error(`no StatusCallback for ${sid}: pass a url`);
      // The parameters Twilio posts to a messaging status callback.
      const params: Record<string, string> = {
        AccountSid: accountSid, ApiVersion: '2010-04-01', From: form?.From ?? '', MessageSid: sid,
        MessageStatus: status, SmsSid: sid, SmsStatus: status, To: form?.To ?? '',
        ...(errorCode === undefined ? {} : { ErrorCode: String(errorCode) }),
      };
      const signature = twilio.getExpectedTwilioSignature(badSignature ? authToken + 'x' : authToken, url, params);
      const cb: Callback = { sid, url, params, signature };
      callbacks.push(cb);
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': signature,
            'user-agent': 'TwilioProxy/1.1',
          },
          body: new URLSearchParams(params).toString(),
        });
        await res.arrayBuffer();
        cb.status = res.status;
      } catch (err) {
        cb.error = String(err);
      }
      return cb;
    },

    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return api;
}

/** twilio's RestException, plus the response headers it otherwise drops (Retry-After on 429/503). */
export type RestExceptionWithHeaders = InstanceType<typeof twilio.RestException> & {
  headers: Record<string, string | undefined>;
};

/**
 * An httpClient for `twilio(sid, token, { httpClient })` that sends to another origin
 * (twilio's edge/region options only rewrite *.twilio.com hosts). It also throws the
 * RestException itself on a non-2xx answer, so it can carry the response headers:
 * twilio's own RestException has no headers, and client.httpClient.lastResponse is
 * shared by concurrent requests.
 */
export class OriginRequestClient extends twilio.RequestClient {
  readonly #origin: URL;

  constructor(origin: string, opts?: RequestClient.RequestClientOptions) {
    super(opts);
    this.#origin = new URL(origin);
  }

  override async request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const url = new URL(opts.uri);
    url.protocol = this.#origin.protocol;
    url.host = this.#origin.host;
    const res = await super.request({ ...opts, uri: url.href });
    const body: unknown = res.body;
    // RFC 9457 bodies (type + title) are left to twilio, which throws TwilioServiceException.
    const rfc9457 = typeof body === 'object' && body !== null && 'type' in body && 'title' in body;
    if ((res.statusCode < 200 || res.statusCode > 299) && !rfc9457) {
      const err = new twilio.RestException(res) as RestExceptionWithHeaders;
      err.headers = { ...(res.headers as Record<string, string | undefined>) };
      throw err;
    }
    return res;
  }
}
