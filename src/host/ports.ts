import http from 'node:http';
import net from 'node:net';

/** Whether something on this host already listens on 127.0.0.1:port. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(true));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(false)));
  });
}

/**
 * GET http://127.0.0.1:port<path> (PocketBase's /api/health unless the app names its own) with a timeout:
 * the status, or null when nothing answered. The path is only ever appended to the loopback origin.
 * node:http rather than fetch: undici, which fetch loads, weighs about 9 MiB in a daemon that otherwise
 * needs none of it (issue #29); redirects are not followed either way.
 */
export function probeHealth(
  port: number,
  timeoutMs: number,
  path = '/api/health',
): Promise<{ status: number | null; ms: number; error?: string }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (status: number | null, error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ status, ms: Math.round(performance.now() - t0), ...(error === undefined ? {} : { error }) });
    };
    const fail = (err: unknown) => done(null, probeError(err, timeoutMs));
    const timer = setTimeout(() => {
      done(null, `timeout: no answer within ${timeoutMs} ms`);
      req?.destroy();
    }, timeoutMs);
    let req: http.ClientRequest | undefined;
    try {
      req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        res.on('error', fail);
        res.on('end', () => done(res.statusCode ?? null));
        res.resume();
      });
      req.on('error', fail);
    } catch (err) {
      fail(err);
    }
  });
}

/** Why a probe got no answer, in words that tell a refused connection from a timeout. */
export function probeError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; code?: string };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `timeout: no answer within ${timeoutMs} ms`;
  if (e.code === 'ECONNREFUSED') return 'connection refused: nothing listens on the port';
  if (e.code === 'ECONNRESET') return 'connection reset: the app closed it without answering';
  return e.code ? `no answer: ${e.code}` : `no answer: ${e.message ?? String(err)}`;
}
