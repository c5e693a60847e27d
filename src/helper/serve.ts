import { createServer, type Server, type Socket } from 'node:net';
import { SOCKET_REQUEST_MAX, socketRequestSchema, type SocketAnswer, type SocketRequest } from '../shared/protocol.js';
import { HelperError } from './errors.js';
import { parseJsonInput } from './json-input.js';

/** Runs one verb as the sudo path would, and answers what it printed. */
export type Dispatch = (verb: string, args: string[]) => Promise<string | void>;

/** Connections at once, at most (node closes any beyond them at once); the daemon opens at most 8. */
export const SERVE_CONNECTIONS_MAX = 16;
/** A request not whole this long after its connection is dropped. */
const READ_MS = 5_000;
/** An answer not taken by then is dropped with its connection. */
const ANSWER_MS = 2_000;
/** With no request for this long the helper exits; systemd keeps the socket and starts it again on the next. */
export const SERVE_IDLE_MS = 30_000;

/** Parses one request line; a refusal carries the helper's exit code and names the field. */
export function parseRequest(text: string): SocketRequest {
  if (Buffer.byteLength(text) > SOCKET_REQUEST_MAX) throw new HelperError(66, 'the request is too large');
  return parseJsonInput(text, socketRequestSchema, 'request', (issues) =>
    issues.some((i) => i.path[0] === 'verb') ? 64 : 65,
  );
}

/** A journal line's detail: one line, control characters and quotes escaped (no forged line after it). */
const oneLine = (text: string) => JSON.stringify(text.slice(0, 300));

/**
 * Reads one line, runs it, writes one JSON answer and closes. Bounded: the request must be whole within
 * READ_MS of the connection (a deadline, not an idle timer: a byte now and then does not keep it), and once
 * answered the socket is closed as soon as the answer is written (within ANSWER_MS at most), whatever the
 * client does. Settles when the socket is closed, so the server counts it until then.
 */
function handle(sock: Socket, dispatch: Dispatch, log: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let started = false;
    let answered = false;
    const deadline = setTimeout(() => sock.destroy(), READ_MS);
    sock.once('close', () => {
      clearTimeout(deadline);
      resolve();
    });
    sock.on('error', () => sock.destroy());
    const answer = (a: SocketAnswer) => {
      if (answered || sock.destroyed) return;
      answered = true;
      sock.pause();
      clearTimeout(deadline);
      setTimeout(() => sock.destroy(), ANSWER_MS).unref();
      sock.end(`${JSON.stringify(a)}\n`, () => sock.destroy());
    };
    const run = async () => {
      if (started) return;
      started = true;
      sock.pause();
      // The request is whole: the verb's own time is systemd's, bounded by the helper's own timeouts.
      clearTimeout(deadline);
      const t0 = performance.now();
      const text = Buffer.concat(chunks).toString('utf8').split('\n')[0]!;
      let req: SocketRequest | undefined;
      try {
        req = parseRequest(text);
        const out = await dispatch(req.verb, [req.name]);
        answer({ code: 0, stdout: typeof out === 'string' && out !== '' ? `${out}\n` : '', stderr: '' });
        log(`${req.verb} ${req.name}: done in ${Math.round(performance.now() - t0)} ms`);
      } catch (err) {
        const code = err instanceof HelperError ? err.exitCode : 72;
        const message = `pocketd-helper: ${err instanceof Error ? err.message : String(err)}`;
        answer({ code, stdout: '', stderr: `${message.slice(0, 4000)}\n` });
        // Only checked values are written as they are; the rest (it may quote the request) is escaped.
        log(`${req ? `${req.verb} ${req.name}` : 'a request'}: refused or failed (exit ${code}): ${oneLine(message)}`);
      }
    };
    sock.on('data', (c: Buffer) => {
      if (started || answered) return;
      size += c.length;
      if (size > SOCKET_REQUEST_MAX + 1) {
        answer({ code: 66, stdout: '', stderr: 'pocketd-helper: the request is too large\n' });
        return;
      }
      chunks.push(c);
      if (c.includes(0x0a)) void run();
    });
    sock.on('end', () => {
      if (started || answered) return;
      if (size === 0) return answer({ code: 66, stdout: '', stderr: 'pocketd-helper: no request\n' });
      void run();
    });
  });
}

/**
 * The server of `serve`: each connection one request (handle), at most SERVE_CONNECTIONS_MAX at once, and
 * closed once no request came for `idleMs` (then the process ends; systemd keeps the listening socket).
 */
export function createHelperServer(dispatch: Dispatch, log: (line: string) => void, idleMs = SERVE_IDLE_MS): Server {
  let active = 0;
  let idle: NodeJS.Timeout | undefined;
  const server = createServer({ allowHalfOpen: true }, (sock) => {
    active++;
    clearTimeout(idle);
    void handle(sock, dispatch, log).finally(() => {
      active--;
      if (active === 0) idle = setTimeout(() => server.close(), idleMs);
    });
  });
  server.maxConnections = SERVE_CONNECTIONS_MAX;
  server.on('close', () => clearTimeout(idle));
  server.on('listening', () => {
    idle = setTimeout(() => server.close(), idleMs);
  });
  return server;
}

/**
 * `pocketd-helper serve`: the resident side of the helper, started by systemd on the first connection to
 * pocketd-helper.socket (only the daemon's group may connect: root's socket, mode 0660) and handed that listening
 * socket as descriptor 3. It answers SOCKET_VERBS only, each checked and run exactly as through sudo
 * (`dispatch` is main's), one JSON line in and out per connection, and exits once idle.
 */
export function serve(dispatch: Dispatch, log: (line: string) => void = (l) => process.stdout.write(`${l}\n`)) {
  if (process.env.LISTEN_PID !== String(process.pid) || process.env.LISTEN_FDS !== '1')
    throw new HelperError(64, 'serve runs only as pocketd-helper.service, with the socket systemd passes it');
  delete process.env.LISTEN_PID;
  delete process.env.LISTEN_FDS;
  delete process.env.LISTEN_FDNAMES;
  return new Promise<number>((resolve, reject) => {
    const server = createHelperServer(dispatch, log);
    server.on('error', reject);
    server.on('close', () => resolve(0));
    server.listen({ fd: 3 });
  });
}
