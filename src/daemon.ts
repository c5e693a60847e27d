import type { Config } from './config.js';
import { openDatabase, migrateToLatest, type Database } from './db/database.js';
import { createAuthService } from './core/auth.js';
import { createApi } from './api/app.js';
import { startHttpServer, type HttpServer } from './http-server.js';
import type { Logger } from './log.js';
import { VERSION } from './version.js';

export interface Daemon {
  port: number;
  stop(): Promise<void>;
}

/** Opens the store and the auth service; used by `serve` and by the admin/token commands. */
export async function openStore(config: Config) {
  const db = openDatabase(config.db_file);
  await migrateToLatest(db);
  const auth = createAuthService(db, {
    sessionDays: config.session_days, maxFailures: config.login_max_failures, lockSeconds: config.login_lock_seconds,
  });
  return { db, auth };
}

/** Starts every subsystem in order; `stop()` ends them in reverse. */
export async function startDaemon(config: Config, log: Logger): Promise<Daemon> {
  const startedAt = Date.now();
  const { db, auth } = await openStore(config);
  const stack: Array<() => Promise<void>> = [() => db.destroy()];
  let http: HttpServer | undefined;
  try {
    const api = createApi({ db, auth, log: log.child({ mod: 'api' }), bodyLimitBytes: config.body_limit_bytes, startedAt });
    http = await startHttpServer(api.fetch, config.listen.host, config.listen.port, log.child({ mod: 'http' }));
    const server = http;
    stack.push(() => server.stop(config.shutdown_timeout_seconds * 1000));
  } catch (err) {
    await unwind(stack);
    throw err;
  }
  log.info({ version: VERSION, data_dir: config.data_dir }, 'pocketd started');
  return {
    port: http.port,
    async stop() {
      log.info('stopping');
      await unwind(stack);
      log.info('stopped');
    },
  };
}

async function unwind(stack: Array<() => Promise<void>>): Promise<void> {
  while (stack.length > 0) await stack.pop()!();
}

export type { Database };
