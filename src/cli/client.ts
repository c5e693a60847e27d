import { createWriteStream, openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { loadConfig, type Config } from '../shared/config.js';
import { UsageError } from './args.js';
import { localToken } from './local-token.js';

/** An answer of the API that was not 2xx: its status and pocketd's error envelope, as the API sent it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    const e = (
      body as { error?: { code?: string; message?: string; fields?: Array<{ field: string; message: string }> } }
    )?.error;
    const fields = (e?.fields ?? []).map((f) => `${f.field}: ${f.message}`).join('; ');
    super(`${status} ${e?.code ?? ''}: ${e?.message ?? JSON.stringify(body)}${fields ? ` (${fields})` : ''}`);
  }
}

export interface Api {
  readonly url: string;
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** A multipart upload of one file (field `file`) with text fields. */
  upload<T = unknown>(path: string, file: string, fields?: Record<string, string>): Promise<T>;
  /** Writes a download to a file. */
  download(path: string, file: string): Promise<number>;
  /** Reads a server-sent event stream until it ends or `onEvent` returns false. */
  stream(path: string, onEvent: (event: string, data: string) => boolean | void): Promise<void>;
  close(): Promise<void>;
}

/** The daemon's own settings for a local command: POCKETD_URL and POCKETD_TOKEN are the CLI's, not the daemon's. */
export function localConfig(): Config {
  const { POCKETD_URL: _u, POCKETD_TOKEN: _t, ...env } = process.env;
  return loadConfig(env);
}

/**
 * The API this command talks to: POCKETD_URL with POCKETD_TOKEN (remote, or local with a token), else the
 * local daemon at its listen address with a short-lived admin token made in its store for this command
 * alone (whoever can read the store can do everything already) and deleted when it ends.
 */
export async function connect(): Promise<Api> {
  const remote = process.env.POCKETD_URL;
  let token = process.env.POCKETD_TOKEN;
  let url: string;
  let done = async () => undefined as void;
  if (remote) {
    if (!/^https?:\/\/[^\s/]+/.test(remote)) throw new UsageError('POCKETD_URL must be like http://host:8091');
    if (!token) throw new UsageError('POCKETD_URL needs POCKETD_TOKEN (a token made with pocketd tokens create)');
    url = remote.replace(/\/+$/, '');
  } else {
    const config = localConfig();
    const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
    url = `http://${host}:${config.listen.port}`;
    if (!token) {
      const t = await localToken(config, `cli:${userInfo().username}`.slice(0, 64));
      token = t.token;
      done = () => t.remove();
    }
  }
  const auth = { authorization: `Bearer ${token}` };
  const answer = async <T>(res: Response): Promise<T> => {
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    if (!res.ok) throw new ApiError(res.status, body);
    return body as T;
  };
  const reach = async (path: string, init: RequestInit = {}) => {
    try {
      return await fetch(`${url}${path}`, { ...init, headers: { ...auth, ...(init.headers as object) } });
    } catch (err) {
      throw new Error(`pocketd at ${url} did not answer: ${(err as { cause?: Error }).cause?.message ?? String(err)}`);
    }
  };
  return {
    url,
    async call(method, path, body) {
      const init: RequestInit = { method };
      if (body !== undefined) {
        init.body = JSON.stringify(body);
        init.headers = { 'content-type': 'application/json' };
      }
      return answer(await reach(path, init));
    },
    async upload(path, file, fields = {}) {
      // A blob backed by the file: a large bundle is streamed, not held in memory.
      const form = new FormData();
      form.set('file', await openAsBlob(file, { type: 'application/zip' }), 'bundle.zip');
      for (const [k, v] of Object.entries(fields)) form.set(k, v);
      return answer(await reach(path, { method: 'POST', body: form }));
    },
    async download(path, file) {
      const res = await reach(path);
      if (!res.ok || !res.body) await answer(res);
      await pipeline(Readable.fromWeb(res.body as never), createWriteStream(file, { flags: 'wx' }));
      return (await stat(file)).size;
    },
    async stream(path, onEvent) {
      const res = await reach(path, { headers: { accept: 'text/event-stream' } });
      if (!res.ok || !res.body) await answer(res);
      const decoder = new TextDecoder();
      let buf = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: ?(.*)$/m.exec(block)?.[1] ?? 'message';
          const data = [...block.matchAll(/^data: ?(.*)$/gm)].map((m) => m[1]).join('\n');
          if (onEvent(event, data) === false) return;
        }
      }
    },
    close: () => done(),
  };
}
