import type { FieldIssue } from './types.js';

const KEY = 'pocketd.token';

/**
 * The token lives in this origin's localStorage: other sites cannot read it,
 * and the daemon serves the dashboard with a strict Content-Security-Policy so
 * no foreign script runs here to read it either.
 */
export const session = {
  get: (): string | null => localStorage.getItem(KEY),
  set: (t: string) => localStorage.setItem(KEY, t),
  clear: () => localStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public fields: FieldIssue[] = [],
  ) {
    super(message);
  }
}

let onUnauthorized: () => void = () => undefined;
export const setUnauthorizedHandler = (fn: () => void) => {
  onUnauthorized = fn;
};

const headers = (json: boolean): Record<string, string> => {
  const h: Record<string, string> = {};
  const t = session.get();
  if (t) h.authorization = `Bearer ${t}`;
  if (json) h['content-type'] = 'application/json';
  return h;
};

async function failure(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => null)) as {
    error?: { code: string; message: string; fields?: FieldIssue[] };
  } | null;
  if (res.status === 401) onUnauthorized();
  return new ApiError(
    res.status,
    body?.error?.code ?? 'HTTP_ERROR',
    body?.error?.message ?? `${res.status} ${res.statusText}`,
    body?.error?.fields ?? [],
  );
}

/** One JSON call; errors come back as ApiError with the envelope's fields. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return undefined as T;
  return res.json() as Promise<T>;
}

export interface StreamEvent {
  id?: string;
  event: string;
  data: unknown;
}

/**
 * Server-Sent Events over fetch (EventSource cannot send a bearer token).
 * Reconnects with Last-Event-ID until the signal aborts.
 */
export async function stream(
  path: string,
  onEvent: (e: StreamEvent) => void,
  signal: AbortSignal,
  reconnect = true,
  onOpen?: () => void,
): Promise<void> {
  let lastId: string | undefined;
  while (!signal.aborted) {
    try {
      const h = headers(false);
      if (lastId) h['last-event-id'] = lastId;
      const res = await fetch(path, { headers: h, signal });
      if (!res.ok || !res.body) throw await failure(res);
      // From here on nothing is missed: a reader can catch up with what happened before.
      onOpen?.();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let i: number;
        while ((i = buf.indexOf('\n\n')) !== -1) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const e: { id?: string; event: string; data: string } = { event: 'message', data: '' };
          for (const line of block.split('\n')) {
            const m = /^(\w+): ?(.*)$/.exec(line);
            if (!m) continue;
            if (m[1] === 'id') e.id = m[2];
            else if (m[1] === 'event') e.event = m[2]!;
            else if (m[1] === 'data') e.data += m[2];
          }
          if (e.id) lastId = e.id;
          if (e.event === 'ping' || e.event === 'ready') continue;
          let data: unknown = e.data;
          try {
            data = JSON.parse(e.data);
          } catch {
            /* text */
          }
          onEvent({ id: e.id, event: e.event, data });
        }
      }
    } catch (err) {
      if (signal.aborted || (err instanceof ApiError && err.status < 500)) return;
    }
    if (!reconnect) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** A file the API sends (a backup's tar), saved under `filename`; the bearer token goes in the header, never the URL. */
export async function download(path: string, filename: string): Promise<void> {
  const res = await fetch(path, { headers: headers(false) });
  if (!res.ok) throw await failure(res);
  const a = document.createElement('a');
  a.href = URL.createObjectURL(await res.blob());
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
}

/** A multipart upload with progress (fetch cannot report upload progress). */
export function upload<T>(path: string, form: FormData, onProgress: (fraction: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    const t = session.get();
    if (t) xhr.setRequestHeader('authorization', `Bearer ${t}`);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON */
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body as T);
        return;
      }
      const err = (body as { error?: { code?: string; message?: string; fields?: FieldIssue[] } } | null)?.error;
      reject(
        new ApiError(
          xhr.status,
          err?.code ?? 'HTTP_ERROR',
          err?.message ?? `upload failed (${xhr.status})`,
          err?.fields ?? [],
        ),
      );
    };
    xhr.onerror = () => reject(new ApiError(0, 'NETWORK', 'the upload could not reach pocketd'));
    xhr.send(form);
  });
}

export const bytes = (n: number | null | undefined): string => {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v >= 10 || i === 0 ? 0 : 1)} ${units[i]}`;
};

export const ago = (iso: string | null | undefined): string => {
  if (!iso) return '—';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${Math.max(0, s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
};

/** A length of time as people say it: "3 d 4 h", "2 h 5 min", "45 s". */
export const duration = (seconds: number): string => {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
};
