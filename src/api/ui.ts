import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from './context.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** No script, style, font or connection from anywhere but this origin; no framing. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

async function walk(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p, base)));
    else if (e.isFile()) out.push(path.relative(base, p));
  }
  return out;
}

/**
 * Serves the built dashboard at `/`: the files are read once at start-up, so
 * only those paths exist (no path from a request ever reaches the disk); any
 * other non-API path gets index.html. Null when there is no build.
 */
export async function loadUi(uiDir: string): Promise<((app: OpenAPIHono<ApiEnv>) => void) | null> {
  const files = new Map<string, { body: Uint8Array; type: string; immutable: boolean }>();
  try {
    for (const rel of await walk(uiDir)) {
      files.set(`/${rel.split(path.sep).join('/')}`, {
        body: new Uint8Array(await readFile(path.join(uiDir, rel))),
        type: TYPES[path.extname(rel)] ?? 'application/octet-stream',
        immutable: rel.startsWith('assets'),
      });
    }
  } catch {
    return null;
  }
  const index = files.get('/index.html');
  if (!index) return null;
  return (app) =>
    app.get('*', async (c, next) => {
      if (c.req.path.startsWith('/api/') || c.req.path === '/api' || c.req.path === '/metrics') return next();
      // The API reference is a page of the dashboard, drawn from /api/openapi.json under the same CSP.
      if (c.req.path === '/docs' || c.req.path === '/docs/') return c.redirect('/#/docs', 302);
      const f = files.get(c.req.path) ?? (path.extname(c.req.path) ? undefined : index);
      if (!f) return next();
      return c.body(f.body as never, 200, {
        'content-type': f.type,
        'content-security-policy': CSP,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
        'cache-control': f.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      });
    });
}
