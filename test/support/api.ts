import { createAudit } from '../../src/core/auth/audit.js';
import path from 'node:path';
import pino from 'pino';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { openDatabase, migrateToLatest, type Database } from '../../src/db/database.js';
import { createAuthService, type AuthService } from '../../src/core/auth/auth.js';
import { createAdmins, type Admins } from '../../src/core/auth/admins.js';
import { createSecretBox } from '../../src/core/auth/secret-box.js';
import { createTwoFactor } from '../../src/core/auth/two-factor.js';
import { createApi } from '../../src/api/app.js';
import type { ApiEnv } from '../../src/api/context.js';
import { tempDir } from './tmp.js';

export interface TestApi {
  app: OpenAPIHono<ApiEnv>;
  db: Database;
  auth: AuthService;
  admins: Admins;
  adminToken: string;
  dir: string;
  /** JSON request helper; `token: null` sends none. */
  call(
    method: string,
    url: string,
    opts?: { body?: unknown; token?: string | null; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

/** The real API stack on a real SQLite file, for in-process tests with `app.request()`. */
export async function createTestApi(
  opts: {
    maxFailures?: number;
    maxFailuresPerAddress?: number;
    lockSeconds?: number;
    bodyLimitBytes?: number;
    trustedProxies?: string[];
    /** Route groups to register, as the daemon does (src/daemon.ts). */
    extra?: Array<(app: OpenAPIHono<ApiEnv>) => void>;
    /** The clock of TOTP codes (ms), for tests that step through time. */
    now?: () => number;
  } = {},
): Promise<TestApi> {
  const { dir, cleanup } = tempDir();
  const db = openDatabase(path.join(dir, 'pocketd.db'));
  await migrateToLatest(db);
  const twoFactor = createTwoFactor(db, createSecretBox(path.join(dir, 'secrets.key')), { now: opts.now });
  const auth = createAuthService(db, {
    secondFactor: (userId, code) => twoFactor.check(userId, code),
    sessionDays: 7,
    maxFailures: opts.maxFailures ?? 5,
    maxFailuresPerAddress: opts.maxFailuresPerAddress,
    lockSeconds: opts.lockSeconds ?? 300,
  });
  const admins = createAdmins(db, auth, twoFactor);
  const app = createApi({
    audit: createAudit(db),
    auth,
    admins,
    log: pino({ level: 'silent' }),
    bodyLimitBytes: opts.bodyLimitBytes ?? 64 * 1024,
    startedAt: Date.now(),
    trustedProxies: opts.trustedProxies ?? [],
    hosts: ['pocketd.example.com'],
    listenHost: '127.0.0.1',
    extra: opts.extra,
  });
  const { token: adminToken } = await auth.createApiToken('test-admin', 'admin', 1, null);
  return {
    app,
    db,
    auth,
    admins,
    adminToken,
    dir,
    async call(method, url, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      const token = o.token === undefined ? adminToken : o.token;
      if (token !== null) headers.authorization = `Bearer ${token}`;
      let body: string | undefined;
      if (o.body !== undefined) {
        body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await app.request(url, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async close() {
      await db.destroy();
      cleanup();
    },
  };
}

/** Asserts the error envelope and returns it. */
export function expectEnvelope(body: any): {
  code: string;
  message: string;
  fields: Array<{ field: string; code: string; message: string }>;
  request_id: string;
} {
  if (
    !body ||
    typeof body !== 'object' ||
    !body.error ||
    typeof body.error.code !== 'string' ||
    typeof body.error.message !== 'string' ||
    !Array.isArray(body.error.fields) ||
    typeof body.error.request_id !== 'string'
  ) {
    throw new Error(`not an error envelope: ${JSON.stringify(body)}`);
  }
  return body.error;
}
