import { test } from 'node:test';
import assert from 'node:assert/strict';
import { singleFlight } from '../../src/shared/single-flight.js';

/** A run that ends when told to, counting how often it started. */
function gate() {
  let runs = 0;
  const ends: Array<(n: number) => void> = [];
  return {
    run: () =>
      new Promise<number>((r) => {
        runs++;
        ends.push(r);
      }),
    end: () => ends.shift()?.(runs),
    runs: () => runs,
    waiting: () => ends.length,
  };
}
const tick = () => new Promise((r) => setImmediate(r));

test('single flight: callers of one key while a run is under way join it; other keys run apart', async () => {
  const sf = singleFlight<number>();
  const g = gate();
  const a = sf('k', g.run);
  const b = sf('k', g.run);
  const c = sf('other', g.run);
  assert.equal(a, b, 'the second caller holds the same promise');
  assert.equal(g.runs(), 2, 'one run for k, one for other');
  assert.equal(sf.pending('k'), a);
  g.end();
  g.end();
  assert.deepEqual(await Promise.all([a, b, c]), [2, 2, 2]);
  assert.equal(sf.pending('k'), undefined, 'nothing is left in flight');
  // The next ask after the end runs again.
  const d = sf('k', g.run);
  assert.notEqual(d, a);
  g.end();
  assert.equal(await d, 3);
});

test('single flight: a failed run is shared by its callers and forgotten; the next one runs', async () => {
  const sf = singleFlight<number>();
  let fail!: (e: Error) => void;
  const boom = () => new Promise<number>((_, reject) => (fail = reject));
  const a = sf('k', boom);
  const b = sf('k', boom);
  fail(new Error('boom'));
  await assert.rejects(a, /boom/);
  await assert.rejects(b, /boom/);
  assert.equal(await sf('k', async () => 7), 7);
  // A run that throws before its first await is a rejection too, and leaves nothing behind.
  await assert.rejects(
    sf('k', () => {
      throw new Error('at once');
    }),
    /at once/,
  );
  assert.equal(sf.pending('k'), undefined);
});

test('single flight with rerun: asks during a run cost one more run after it, not one each', async () => {
  let connected = true;
  const sf = singleFlight<number>({ rerun: () => connected });
  const g = gate();
  const a = sf('list', g.run);
  for (let i = 0; i < 5; i++) assert.equal(sf('list', g.run), a);
  g.end();
  await tick();
  assert.equal(g.runs(), 2, 'five asks during the first run: one more run');
  g.end();
  assert.equal(await a, 2, 'the joined promise answers with the last run');
  // Without asks during the run, it runs once; when rerun() says no, asks only join.
  const b = sf('list', g.run);
  connected = false;
  sf('list', g.run);
  g.end();
  assert.equal(await b, 3);
  assert.equal(g.waiting(), 0);
  // Without the option, joining never runs again.
  const plain = singleFlight<number>();
  const c = plain('k', g.run);
  plain('k', g.run);
  g.end();
  await c;
  await tick();
  assert.equal(g.runs(), 4);
});
