import { connect } from 'node:net';
import { socketAnswerSchema, type SocketAnswer, type SocketRequest } from '../shared/protocol.js';

const ANSWER_MAX = 160 * 1024;

/** Why a socket call did not happen at all: then the same call goes through sudo instead. */
export class SocketUnavailable extends Error {
  override name = 'SocketUnavailable';
}

/**
 * Errors before any connection, so nothing ran: a socket that is not there (not installed, its unit
 * stopped) or whose backlog is full. Sudo still works. After a connection, an error is the call's.
 */
const ABSENT = new Set(['ENOENT', 'ECONNREFUSED', 'EAGAIN']);

/**
 * One request to the resident helper (pocketd-helper.socket): one JSON line out, one JSON answer back,
 * bounded in size and time. Throws SocketUnavailable when nothing listens there.
 */
export function askHelperSocket(path: string, req: SocketRequest, timeoutMs: number): Promise<SocketAnswer> {
  return new Promise((resolve, reject) => {
    const sock = connect({ path, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let size = 0;
    let connected = false;
    const fail = (err: Error) => {
      clearTimeout(timer);
      sock.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new Error(`the helper's socket did not answer ${req.verb} in ${timeoutMs} ms`)),
      timeoutMs,
    );
    sock.on('connect', () => {
      connected = true;
      sock.end(`${JSON.stringify(req)}\n`);
    });
    sock.on('data', (c: Buffer) => {
      size += c.length;
      if (size > ANSWER_MAX) return fail(new Error("the helper's socket answered too much"));
      chunks.push(c);
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && err.code && ABSENT.has(err.code)) return fail(new SocketUnavailable(err.code));
      fail(err);
    });
    sock.on('end', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8').trim();
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch {
        return fail(new Error(`the helper's socket gave no answer to ${req.verb}`));
      }
      const r = socketAnswerSchema.safeParse(raw);
      if (!r.success) return fail(new Error(`the helper's socket answered ${req.verb} in a shape it does not use`));
      sock.destroy();
      resolve(r.data);
    });
  });
}
