import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './sandbox.js';
import { tempDir } from './tmp.js';

/**
 * The real servers a replica is sent to in the tests, started by the harness
 * on this machine's loopback (in the test's network namespace, which the
 * sandboxes share): versitygw, an S3-compatible gateway built from its source
 * (test/replica/fetch.mjs), and Debian's OpenSSH sshd for SFTP. Both live
 * outside every sandbox, so a sandbox can be destroyed whole and what it
 * replicated is still there: the disaster-recovery test needs exactly that.
 */

const manifest = JSON.parse(
  readFileSync(
    path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../test/replica/versions.json'),
    'utf8',
  ),
) as { cache: string; tools: Array<{ name: string; version: string }> };
export const toolPath = (name: string) => {
  const t = manifest.tools.find((x) => x.name === name)!;
  return path.join(process.env.POCKETD_TEST_TOOL_CACHE || manifest.cache, t.name, t.version, t.name);
};

async function listening(port: number, child: ChildProcess, what: string, log: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited ${child.exitCode}: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`${what} never listened on ${port}: ${log()}`);
}

export interface S3Server {
  endpoint: string;
  port: number;
  bucket: string;
  accessKey: string;
  secretKey: string;
  /** The gateway's root on this machine: bucket/key is a file. */
  root: string;
  /** Every object key of the bucket (its files), sorted. */
  keys(): string[];
  /** Ends the server (its data stays) and, with `restart`, starts it again on the same port. */
  outage(): Promise<{ restart: () => Promise<void> }>;
  stop(): Promise<void>;
}

/** The replica target (as `PUT /api/apps/:name/replica` takes it) of objects under `path` of the server's bucket. */
export const s3TargetOf = (s3: S3Server, path: string) => ({
  type: 's3',
  endpoint: s3.endpoint,
  bucket: s3.bucket,
  path,
  region: 'us-east-1',
  access_key_id: s3.accessKey,
  secret_access_key: s3.secretKey,
});

/** versitygw over a fresh directory, one bucket made, root credentials random. */
export async function startS3(bucket = 'pocketd-replicas'): Promise<S3Server> {
  const tmp = tempDir('pocketd-s3-');
  const root = path.join(tmp.dir, 'root');
  mkdirSync(path.join(root, bucket), { recursive: true });
  const port = await freePort();
  const accessKey = `AK${randomBytes(8).toString('hex')}`;
  const secretKey = randomBytes(24).toString('base64url');
  let out = '';
  // Credentials through its environment: this process's own child, on a machine where nothing else runs as us.
  const start = async () => {
    const c = spawn(toolPath('versitygw'), ['--port', `127.0.0.1:${port}`, 'posix', root], {
      env: { PATH: process.env.PATH, ROOT_ACCESS_KEY: accessKey, ROOT_SECRET_KEY: secretKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()).slice(-4000));
    c.stderr!.on('data', (d: Buffer) => (out += d.toString()).slice(-4000));
    await listening(port, c, 'versitygw', () => out);
    return c;
  };
  let child = await start();
  const end = async () => {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    bucket,
    accessKey,
    secretKey,
    root,
    keys() {
      const listed = execFileSync('find', [path.join(root, bucket), '-type', 'f', '-not', '-path', '*/.sgwtmp/*'], {
        encoding: 'utf8',
      });
      return listed
        .split('\n')
        .filter(Boolean)
        .map((f) => path.relative(path.join(root, bucket), f))
        .sort();
    },
    async outage() {
      await end();
      return {
        restart: async () => {
          child = await start();
        },
      };
    },
    async stop() {
      await end();
      tmp.cleanup();
    },
  };
}

export interface SftpServer {
  host: string;
  port: number;
  user: string;
  /** The private key (OpenSSH PEM) the target is given. */
  privateKey: string;
  /** A directory on the server for replicas (an absolute path, as the target's path takes it). */
  root: string;
  stop(): Promise<void>;
}

/** The replica target (as `PUT /api/apps/:name/replica` takes it) of the server's directory, with its key. */
export const sftpTargetOf = (sftp: SftpServer) => ({
  type: 'sftp',
  host: sftp.host,
  port: sftp.port,
  user: sftp.user,
  path: sftp.root,
  private_key: sftp.privateKey,
});

/**
 * Debian's sshd on a loopback port with its own config, host key and one
 * authorized key, serving SFTP only (internal-sftp), for root (the tests run
 * as root): the target's path is a fresh directory of the test's. sshd needs
 * its privilege-separation directory /run/sshd, which Debian's package makes
 * at boot; it is made here when missing, empty, as the package would.
 */
export async function startSftp(): Promise<SftpServer> {
  const tmp = tempDir('pocketd-sftp-');
  const d = tmp.dir;
  chmodSync(d, 0o755);
  const root = path.join(d, 'srv');
  mkdirSync(root, { recursive: true, mode: 0o755 });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(d, 'host_key')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'pocketd-test', '-f', path.join(d, 'client_key')]);
  writeFileSync(path.join(d, 'authorized_keys'), readFileSync(path.join(d, 'client_key.pub')), { mode: 0o600 });
  const port = await freePort();
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${path.join(d, 'host_key')}`,
    `AuthorizedKeysFile ${path.join(d, 'authorized_keys')}`,
    `PidFile ${path.join(d, 'sshd.pid')}`,
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'PermitRootLogin prohibit-password',
    'StrictModes no',
    'UsePAM no',
    'Subsystem sftp internal-sftp',
    'ForceCommand internal-sftp',
    'AllowTcpForwarding no',
    'X11Forwarding no',
  ].join('\n');
  writeFileSync(path.join(d, 'sshd_config'), `${config}\n`);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  let out = '';
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', path.join(d, 'sshd_config')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (x: Buffer) => (out += x.toString()).slice(-4000));
  child.stderr!.on('data', (x: Buffer) => (out += x.toString()).slice(-4000));
  await listening(port, child, 'sshd', () => out);
  return {
    host: '127.0.0.1',
    port,
    user: 'root',
    privateKey: readFileSync(path.join(d, 'client_key'), 'utf8'),
    root,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      tmp.cleanup();
    },
  };
}
