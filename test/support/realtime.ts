import http from 'node:http';

/**
 * Opens PocketBase's realtime stream (SSE) through Caddy for a site (its Host header) and
 * resolves once the first event arrived; `close()` ends it. An open subscription is an open
 * connection: what keeps an app that may sleep awake.
 */
export function openRealtime(port: number, host: string): Promise<{ status: number; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: '/api/realtime', agent: false, headers: { host }, timeout: 30_000 },
      (res) => {
        res.once('data', () => resolve({ status: res.statusCode ?? 0, close: () => req.destroy() }));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, close: () => req.destroy() }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`realtime of ${host} did not answer`)));
    req.on('error', reject);
  });
}
