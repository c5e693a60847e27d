import { serve, type ServerType } from '@hono/node-server';
import type { Server } from 'node:http';
import type { Logger } from '../shared/log.js';

export interface HttpServer {
  port: number;
  stop(timeoutMs: number): Promise<void>;
}

/** Listens, and on stop refuses new connections and waits (bounded) for in-flight requests. */
export async function startHttpServer(
  fetch: (req: Request) => Response | Promise<Response>,
  host: string,
  port: number,
  log: Logger,
): Promise<HttpServer> {
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch, hostname: host, port }, () => resolve(s));
    s.once('error', reject);
  });
  const http = server as Server;
  const address = http.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  log.info({ host, port: actualPort }, 'listening');
  return {
    port: actualPort,
    async stop(timeoutMs) {
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      const timer = setTimeout(() => {
        log.warn('in-flight requests did not finish in time; closing their connections');
        http.closeAllConnections();
      }, timeoutMs);
      await closed;
      clearTimeout(timer);
    },
  };
}
