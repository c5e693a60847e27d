import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJournalLine } from '../../src/host/journal.js';

// Lines as real PocketBase executables (0.22.20, 0.22.27, 0.39.11, 0.40.6) print them; the journal gives
// stdout and stderr the same priority (6).
const entry = (message: string, priority = 6) =>
  parseJournalLine(
    JSON.stringify({
      __REALTIME_TIMESTAMP: '1795989991000000',
      PRIORITY: String(priority),
      MESSAGE: message,
      _PID: '42',
    }),
  )!;

test("PocketBase's own lines: start-up is info, its failures are errors, Go's panics fatal", () => {
  for (const [line, level] of [
    ['2026/11/29 21:45:41 Server started at http://127.0.0.1:28620', 'info'],
    ['└─ Dashboard: http://127.0.0.1:28853/_/', 'info'],
    ['2026/11/29 21:45:52 cerror hello', 'info'],
    ['Error: listen tcp 127.0.0.1:28999: bind: address already in use', 'error'],
    ['failed to execute bad.pb.js:', 'error'],
    ['Failed to execute bad.pb.js:', 'error'],
    [' - SyntaxError: SyntaxError: (anonymous): Line 2:1 Unexpected end of input (and 1 more errors)', 'error'],
    ['panic: runtime error: invalid memory address or nil pointer dereference', 'fatal'],
    ['2026/11/29 21:45:52 WARN disk almost full', 'warn'],
    ['2026/11/29 21:45:52 [ERROR] payment failed', 'error'],
  ] as const)
    assert.equal(entry(line).level, level, line);
  assert.equal(entry('anything', 3).level, 'error');
});

test('the superuser-installer link of PocketBase 0.23+ reaches no log reader with its token', () => {
  const e = entry(
    'http://127.0.0.1:28258/_/#/pbinstall/eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJjb2xsZWN0aW9uSWQiOiJwYmNfMzE0MjYzNTgyMyJ9.wbBh6klN2vetkugeoOHWyYosZut_LtFbc9KTG4Vzndo',
  );
  assert.equal(e.message, 'http://127.0.0.1:28258/_/#/pbinstall/[masked]');
  assert.equal(e.pid, 42);
});
