/**
 * PocketBase's own JS hooks (`pb_hooks/*.pb.js`, run by its goja JSVM as the
 * app's user), written for the API family of a version: before 0.23 a route's
 * handler gets echo's context (`c.queryParam`, `c.json`), from 0.23 on a
 * request event (`e.request.url.query().get`, `e.json`). An app's hooks are
 * arbitrary code: tests use them as the honest model of a hostile app.
 */

/** 'echo' before 0.23, 'event' from 0.23 on. */
export type HooksApi = 'echo' | 'event';

export function hooksApiOf(version: string): HooksApi {
  const m = /^(\d+)\.(\d+)\./.exec(version);
  if (!m) throw new Error(`not a PocketBase version: ${version}`);
  return Number(m[1]) === 0 && Number(m[2]) < 23 ? 'echo' : 'event';
}

/**
 * A hooks file adding `GET <route>`, whose handler runs `body` and answers the
 * object `out` as JSON. PocketBase runs each handler in a VM of its pool apart
 * from the file's top level, so everything `body` uses is declared inside the
 * handler:
 * - `out`: the answer;
 * - `query(name)`: a query parameter of the request;
 * - `text(bytes)`: the bytes a Go function returned ($os.readFile, a command's
 *   output), as a string (0.22.20 has no `toString`);
 * - `errno(err)`: a thrown Go error as its errno name (EACCES, ENOENT, EROFS,
 *   EPERM, ESRCH, ECONNREFUSED), or its message when it is none of those;
 * - `attempt(key, fn)`: `out[key]` = what `fn` returns ('ok' for nothing), or
 *   `errno` of what it threw;
 * - `sh(script)`: runs `script` with /bin/sh through `$os.exec`, returning its
 *   output (stdout and stderr) followed by `rc=<exit status>`.
 */
export function jsonRouteHook(version: string, route: string, body: string): string {
  const api = hooksApiOf(version);
  const ctx = api === 'echo' ? 'c' : 'e';
  const query = api === 'echo' ? 'c.queryParam(name)' : 'e.request.url.query().get(name)';
  return String.raw`// pb_hooks for PocketBase ${version} (${api === 'echo' ? 'before 0.23' : '0.23+'} hooks API)
routerAdd("GET", ${JSON.stringify(route)}, (${ctx}) => {
  const out = {};
  const query = (name) => ${query};
  const text = (bytes) => {
    let s = "";
    for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return s;
  };
  const errno = (err) => {
    const m = String((err && err.message) || err);
    const known = [
      ["permission denied", "EACCES"],
      ["no such file or directory", "ENOENT"],
      ["read-only file system", "EROFS"],
      ["operation not permitted", "EPERM"],
      ["no such process", "ESRCH"],
      ["connection refused", "ECONNREFUSED"],
    ];
    for (const [words, code] of known) if (m.toLowerCase().indexOf(words) >= 0) return code;
    return m;
  };
  const attempt = (key, fn) => {
    try {
      const v = fn();
      out[key] = v === undefined ? "ok" : v;
    } catch (err) {
      out[key] = errno(err);
    }
  };
  const sh = (script) => text($os.exec("/bin/sh", "-c", script + ' 2>&1; echo "rc=$?"').output());
${body}
  return ${ctx}.json(200, out);
});
`;
}
