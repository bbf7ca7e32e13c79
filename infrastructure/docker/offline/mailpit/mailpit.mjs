#!/usr/bin/env node
// Offline stand-in for axllent/mailpit, for the container test where no image
// registry is reachable. It keeps the parts of mailpit's contract the compose
// file and the test use: SMTP on 1025 (no TLS, any or no AUTH accepted), the
// HTTP API on 8025 (GET /api/v1/messages, GET /api/v1/message/:id, /livez,
// /readyz) and `mailpit readyz` as the health check. Messages stay in memory.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

const smtpPort = Number(process.env.MP_SMTP_PORT ?? 1025);
const httpPort = Number(process.env.MP_UI_PORT ?? 8025);
const maxMessages = Number(process.env.MP_MAX_MESSAGES ?? 500);

if (process.argv[2] === 'readyz') {
  fetch(`http://127.0.0.1:${httpPort}/readyz`, { signal: AbortSignal.timeout(3000) }).then(
    (r) => process.exit(r.ok ? 0 : 1),
    () => process.exit(1),
  );
} else {
  serve();
}

function addresses(v) {
  const list = v ? (Array.isArray(v) ? v : [v]).flatMap((a) => a.value) : [];
  return list.map((a) => ({ Name: a.name ?? '', Address: a.address ?? '' }));
}

function serve() {
  /** @type {Array<Record<string, unknown>>} */
  const messages = [];
  let ready = 0;

  const smtp = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    allowInsecureAuth: true,
    logger: false,
    onAuth(_auth, _session, cb) {
      cb(null, { user: 'any' });
    },
    onData(stream, session, cb) {
      simpleParser(stream).then(
        (mail) => {
          const text = mail.text ?? '';
          messages.unshift({
            ID: randomUUID(),
            MessageID: mail.messageId ?? '',
            Read: false,
            From: addresses(mail.from)[0] ?? { Name: '', Address: session.envelope.mailFrom?.address ?? '' },
            To: addresses(mail.to),
            Cc: addresses(mail.cc),
            Bcc: [],
            ReplyTo: addresses(mail.replyTo),
            Subject: mail.subject ?? '',
            Created: new Date().toISOString(),
            Date: (mail.date ?? new Date()).toISOString(),
            Tags: [],
            Size: 0,
            Attachments: mail.attachments.length,
            Snippet: text.slice(0, 250),
            Text: text,
            HTML: typeof mail.html === 'string' ? mail.html : '',
          });
          messages.length = Math.min(messages.length, maxMessages);
          console.log(`mailpit stand-in: accepted "${mail.subject ?? ''}" for ${session.envelope.rcptTo.map((r) => r.address).join(', ')}`);
          cb();
        },
        (err) => cb(err),
      );
    },
  });

  const http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (code, body) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/livez' || url.pathname === '/readyz') return send(ready === 2 ? 200 : 503, { ok: ready === 2 });
    if (req.method === 'GET' && url.pathname === '/api/v1/messages') {
      const summaries = messages.map(({ Text, HTML, Date: _d, ...summary }) => summary);
      return send(200, { total: messages.length, unread: messages.length, count: messages.length, start: 0, tags: [], messages: summaries });
    }
    if (req.method === 'DELETE' && url.pathname === '/api/v1/messages') {
      messages.length = 0;
      return send(200, 'ok');
    }
    const one = /^\/api\/v1\/message\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && one) {
      const found = messages.find((m) => m.ID === one[1]);
      return found ? send(200, found) : send(404, { Error: 'message not found' });
    }
    return send(404, { Error: 'not found' });
  });

  smtp.listen(smtpPort, '0.0.0.0', () => {
    ready += 1;
    console.log(`mailpit stand-in: SMTP on ${smtpPort}`);
  });
  http.listen(httpPort, '0.0.0.0', () => {
    ready += 1;
    console.log(`mailpit stand-in: HTTP API on ${httpPort}`);
  });
  const stop = () => {
    smtp.close(() => undefined);
    http.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
