import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogStreams, type FollowSource } from '../../src/core/observe/log-streams.js';
import type { LogEntry } from '../../src/host/journal.js';

// Issue #25: one journal reader per unit, fanned out; per-token and global bounds on listeners.
function countingSource() {
  const readers = new Map<string, { emit: (e: LogEntry) => void; end: () => void; stopped: boolean }>();
  let started = 0;
  const source: FollowSource = {
    follow(unit, onEntry, onEnd) {
      started++;
      const r = { emit: onEntry, end: onEnd, stopped: false };
      readers.set(unit, r);
      return { stop: () => (r.stopped = true) };
    },
  };
  return { source, readers, started: () => started };
}
const entry = (message: string): LogEntry => ({ timestamp: '', priority: 6, level: 'info', message, pid: 1 });

test('every follower of one unit shares one reader, which stops with the last', () => {
  const s = countingSource();
  const streams = createLogStreams(s.source, { perToken: 100, max: 100 });
  const got: string[][] = Array.from({ length: 50 }, () => []);
  const open = got.map((g, i) =>
    streams.open(
      'pb-shop.service',
      i,
      (e) => g.push(e.message),
      () => undefined,
    ),
  );
  assert.equal(s.started(), 1);
  s.readers.get('pb-shop.service')!.emit(entry('hello'));
  assert.ok(got.every((g) => g.join() === 'hello'));
  for (const o of open) o.close();
  assert.equal(s.readers.get('pb-shop.service')!.stopped, true);
  assert.deepEqual(streams.stats(), { streams: 0, readers: 0 });
});

test('a token at its bound gets a 429 and takes nothing from another token', () => {
  const s = countingSource();
  const streams = createLogStreams(s.source, { perToken: 4, max: 10 });
  const READ = 7;
  const ADMIN = 1;
  for (let i = 0; i < 4; i++)
    streams.open(
      'pb-shop.service',
      READ,
      () => undefined,
      () => undefined,
    );
  assert.throws(
    () =>
      streams.open(
        'pb-shop.service',
        READ,
        () => undefined,
        () => undefined,
      ),
    (e: { code?: string }) => e.code === 'TOO_MANY_STREAMS',
  );
  const seen: string[] = [];
  streams.open(
    'pb-shop.service',
    ADMIN,
    (e) => seen.push(e.message),
    () => undefined,
  );
  s.readers.get('pb-shop.service')!.emit(entry('for the admin too'));
  assert.deepEqual(seen, ['for the admin too']);
  for (let t = 20; t < 25; t++)
    streams.open(
      'pb-blog.service',
      t,
      () => undefined,
      () => undefined,
    );
  assert.throws(
    () =>
      streams.open(
        'pb-blog.service',
        30,
        () => undefined,
        () => undefined,
      ),
    (e: { code?: string }) => e.code === 'TOO_MANY_STREAMS',
    'the global bound',
  );
});

test('a reader that ends ends its followers and frees their places', () => {
  const s = countingSource();
  const streams = createLogStreams(s.source, { perToken: 2, max: 10 });
  let ended = 0;
  streams.open(
    'pb-shop.service',
    1,
    () => undefined,
    () => ended++,
  );
  streams.open(
    'pb-shop.service',
    1,
    () => undefined,
    () => ended++,
  );
  s.readers.get('pb-shop.service')!.end();
  assert.equal(ended, 2);
  assert.deepEqual(streams.stats(), { streams: 0, readers: 0 });
  streams.open(
    'pb-shop.service',
    1,
    () => undefined,
    () => undefined,
  );
  assert.equal(s.started(), 2);
});
