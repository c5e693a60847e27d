/**
 * A JSON call to a pocketd API at `url`: with `token` by default, another, or none (null). The body is parsed
 * as JSON when it is JSON, handed back as text otherwise. The in-process API (full-api.ts) and the sandboxed
 * daemon (host.ts) are called through it.
 */
export function jsonCall(url: string, token: string) {
  return async (
    method: string,
    path: string,
    body?: unknown,
    tok?: string | null,
  ): Promise<{ status: number; body: any }> => {
    const headers: Record<string, string> = {};
    const t = tok === undefined ? token : tok;
    if (t !== null) headers.authorization = `Bearer ${t}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed };
  };
}
