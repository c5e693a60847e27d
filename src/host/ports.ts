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
 */
export async function probeHealth(
  port: number,
  timeoutMs: number,
  path = '/api/health',
): Promise<{ status: number | null; ms: number; error?: string }> {
  const t0 = performance.now();
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
    await res.arrayBuffer();
    return { status: res.status, ms: Math.round(performance.now() - t0) };
  } catch (err) {
    return { status: null, ms: Math.round(performance.now() - t0), error: probeError(err, timeoutMs) };
  }
}

/** Why a probe got no answer, in words that tell a refused connection from a timeout (fetch says only "fetch failed"). */
export function probeError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `timeout: no answer within ${timeoutMs} ms`;
  const code = e.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused: nothing listens on the port';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET')
    return 'connection reset: the app closed it without answering';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return `timeout: ${code}`;
  return code ? `no answer: ${code}` : `no answer: ${e.cause?.message ?? e.message ?? String(err)}`;
}
