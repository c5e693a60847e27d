import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { MANAGER, PROPS, SIGNAL, pathOfUnit, type BusConnection } from '../../src/host/systemd/bus-connection.js';
import { followSignals } from '../../src/host/systemd/bus-signals.js';
import { unitTable } from '../../src/host/systemd/bus-units.js';
import { createLogger } from '../../src/shared/log.js';

/**
 * systemd's side of the bus, as the daemon sees it: the list of pb-* units and each unit's properties,
 * counting every call. What it answers is what a real systemd answers in shape (dbus-native's variants).
 */
function fakeSystemd(units: string[]) {
  const active = new Map(units.map((u) => [u, 'active']));
  const calls = { list: 0, getAll: 0 };
  const call = async (msg: Record<string, unknown>): Promise<unknown[]> => {
    if (msg.member === 'ListUnitsByPatterns') {
      calls.list++;
      return [
        [...active].map(([u, a]) => [u, '', 'loaded', a, a === 'active' ? 'running' : 'dead', '', pathOfUnit(u), 0]),
      ];
    }
    if (msg.member === 'GetAll') {
      calls.getAll++;
      return [
        [
          ['ActiveState', ['s', ['active']]],
          ['MainPID', ['u', [100]]],
          ['NRestarts', ['u', [0]]],
        ],
      ];
    }
    return [];
  };
  const connection = new EventEmitter();
  const conn = { connection, call, match: async () => undefined } as unknown as BusConnection;
  const signal = (iface: string, member: string, body: unknown[], path = '/org/freedesktop/systemd1') =>
    connection.emit('message', { type: SIGNAL, interface: iface, member, path, body });
  return { conn, call, calls, active, signal };
}

test("a daemon-reload reads systemd's list once and reads no unit whole again (issue #29: 2 s of CPU with 200 apps)", async () => {
  const units = Array.from({ length: 200 }, (_, i) => `pb-app${i}.service`);
  const sd = fakeSystemd(units);
  const table = unitTable({ call: sd.call, prefix: 'pb-', onChange: () => undefined, onRemoved: () => undefined });
  const follow = followSignals({
    conn: sd.conn,
    table,
    wanted: (u) => u.startsWith('pb-'),
    log: createLogger('silent', false),
    connected: () => true,
  });
  await follow.subscribe();
  assert.equal(sd.calls.getAll, 400, 'each unit read whole once at the start (Unit and Service)');
  assert.equal(table.state.size, 200);

  // What systemd says around a reload: Reloading(true), then Reloading(false); meanwhile one app stopped.
  sd.active.set('pb-app7.service', 'inactive');
  sd.signal(MANAGER, 'Reloading', [true]);
  sd.signal(MANAGER, 'Reloading', [false]);
  await sleep(300);
  assert.equal(sd.calls.list, 2, 'the list is read again once');
  assert.equal(sd.calls.getAll, 400, 'no unit is read whole again');
  assert.equal(table.state.get('pb-app7.service')?.active_state, 'inactive', 'what the list says is taken');
  // A stopped unit has no usage: none is kept from before it stopped (a reload no longer reads it again).
  assert.equal(table.state.get('pb-app7.service')?.cpu_ns, null);
  assert.equal(table.state.get('pb-app7.service')?.memory_bytes, null);
  assert.equal(table.state.get('pb-app8.service')?.main_pid, 100, 'what was followed is kept');

  // A unit new since (UnitNew, then listed) is read whole; a removed one is forgotten.
  sd.active.set('pb-new.service', 'active');
  sd.active.delete('pb-app9.service');
  sd.signal(MANAGER, 'UnitNew', ['pb-new.service', pathOfUnit('pb-new.service')]);
  await sleep(300);
  assert.equal(sd.calls.getAll, 402);
  assert.equal(table.state.has('pb-app9.service'), false);
  assert.equal(table.state.get('pb-new.service')?.main_pid, 100);

  // A property change is applied from the signal itself, without a read.
  sd.signal(
    PROPS,
    'PropertiesChanged',
    ['org.freedesktop.systemd1.Unit', [['ActiveState', ['s', ['deactivating']]]], []],
    pathOfUnit('pb-app3.service'),
  );
  assert.equal(table.state.get('pb-app3.service')?.active_state, 'deactivating');
  await sleep(300);
  assert.equal(sd.calls.list, 3);
  follow.stop();
});
