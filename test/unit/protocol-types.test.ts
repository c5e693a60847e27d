import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Privileged } from '../../src/host/privileged.js';
import { HELPER_VERBS, SPEC_SCHEMAS } from '../../src/shared/protocol.js';

/**
 * The helper protocol is one typed table: a daemon call with the wrong arguments or another
 * verb's spec does not compile. Each `@ts-expect-error` below fails the build (and so this
 * test) the day the typing lets that call through.
 */
function calls(p: Privileged): Array<Promise<string>> {
  const siteSpec = { port: 20001, domains: ['a.example'], http_only: false, body_max: '1MB' };
  return [
    p.run('start', ['shop']),
    p.run('backup', ['shop', '12']),
    p.run('install-unit', ['shop'], { spec: { port: 20001, version: '0.40.6', memory_max: null, cpu_quota: null } }),
    p.run('install-bundle', ['shop'], { stdinFile: '/var/lib/pocketd/uploads/1.zip' }),
    // @ts-expect-error backup takes an app and a backup id
    p.run('backup', ['shop']),
    // @ts-expect-error start takes one argument
    p.run('start', ['shop', 'extra']),
    // @ts-expect-error install-unit takes a unit spec, not a site spec
    p.run('install-unit', ['shop'], { spec: siteSpec }),
    // @ts-expect-error install-site needs its spec
    p.run('install-site', ['shop']),
    // @ts-expect-error a verb without stdin takes no spec
    p.run('stop', ['shop'], { spec: { port: 1 } }),
    // @ts-expect-error install-bundle streams a file, it takes no spec
    p.run('install-bundle', ['shop'], { spec: {} }),
  ];
}

test('every spec kind the table names has its schema, and the typed calls above compile only as they should', () => {
  assert.equal(typeof calls, 'function');
  const kinds = new Set(Object.values(HELPER_VERBS).map((v) => v.stdin));
  for (const k of kinds) {
    if (k === null || k.endsWith('-zip')) continue;
    assert.ok(Object.hasOwn(SPEC_SCHEMAS, k), `no schema for ${k}`);
  }
});
