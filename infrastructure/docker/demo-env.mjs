#!/usr/bin/env node
// Prints an env file for a local demo of docker-compose.yml: fresh random
// secrets, a VAPID key pair, and Twilio placeholders (SMS deliveries fail until
// real ones are set; email and in-app work as they are).
//
//   node infrastructure/docker/demo-env.mjs > .env && chmod 600 .env
//
// No node on the host? Any of the built images has one:
//   docker run --rm --network none notification-system/notification-service:0.1.0 \
//     node --input-type=module -e "$(cat infrastructure/docker/demo-env.mjs)" > .env
//
// .env is ignored by git and by the image build context.
import { generateKeyPairSync, randomBytes } from 'node:crypto'

const hex = (bytes) => randomBytes(bytes).toString('hex')

/** A P-256 key pair as web-push wants it: the uncompressed public point and the private scalar, base64url. */
function vapidKeys () {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const pub = publicKey.export({ format: 'jwk' })
  const priv = privateKey.export({ format: 'jwk' })
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(pub.x, 'base64url'), Buffer.from(pub.y, 'base64url')])
  return { publicKey: point.toString('base64url'), privateKey: String(priv.d) }
}

const vapid = vapidKeys()
const lines = [
  '# Written by infrastructure/docker/demo-env.mjs for a local demo. It holds secrets: keep it private.',
  'COMPOSE_PROJECT_NAME=notification-system',
  `POSTGRES_PASSWORD=${hex(24)}`,
  '# The API key of the tenant "default" (send it as Authorization: Bearer ...)',
  `BOOTSTRAP_API_KEY=nsk_${hex(24)}`,
  `INBOX_TOKEN_SECRET=${hex(32)}`,
  `VAPID_PUBLIC_KEY=${vapid.publicKey}`,
  `VAPID_PRIVATE_KEY=${vapid.privateKey}`,
  'VAPID_SUBJECT=mailto:admin@example.com',
  '# Placeholders: replace with your Twilio account to send SMS',
  `TWILIO_ACCOUNT_SID=AC${hex(16)}`,
  `TWILIO_AUTH_TOKEN=${hex(16)}`,
  'TWILIO_FROM=+15005550006'
]
process.stdout.write(lines.join('\n') + '\n')
