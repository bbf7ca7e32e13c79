// A throwaway CA and a server certificate for 127.0.0.1 / localhost, made with the
// openssl CLI (Debian's openssl package) at test time, so no key is ever committed.
// A separate CA (rather than one self-signed leaf) is what Node's verifier and
// NODE_EXTRA_CA_CERTS handle most plainly.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  /** PEM of the CA: pass as `ca`, or its path as NODE_EXTRA_CA_CERTS. */
  ca: string;
  caPath: string;
  /** PEM of the server's key and certificate (SAN IP:127.0.0.1, DNS:localhost). */
  key: string;
  cert: string;
  /** Deletes the folder holding caPath. */
  remove(): void;
}

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'peer-certs-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  try {
    ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '7',
      '-subj', '/CN=notification-system test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    ssl('req', '-new', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
    writeFileSync(join(dir, 'server.ext'), [
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
    ].join('\n'));
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
      '-days', '7', '-extfile', 'server.ext', '-out', 'server.pem');
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`making test certificates needs the openssl CLI (apt-get install openssl): ${String(err)}`);
  }
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  const certs = { ca: read('ca.pem'), caPath: join(dir, 'ca.pem'), key: read('server.key'), cert: read('server.pem') };
  // Only the CA certificate need stay on disk, for NODE_EXTRA_CA_CERTS.
  for (const f of ['ca.key', 'ca.srl', 'server.key', 'server.csr', 'server.ext', 'server.pem']) rmSync(join(dir, f), { force: true });
  return { ...certs, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
