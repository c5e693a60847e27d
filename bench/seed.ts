import type { PocketdHost } from '../test/support/host.js';
import { UNIT_LAYOUT } from '../src/shared/templates.js';

/**
 * Puts `n` idle stand-in apps on the host: running units of pocketd's layout (sleep, so 200 fit on 2 cores)
 * from `firstPort` on, healthy (one process answers on all their ports), and their rows written straight into pocketd's store (the daemon is stopped meanwhile and started again).
 */
export async function seedStandIns(h: PocketdHost, n: number, firstPort = 20000): Promise<string[]> {
  const names = Array.from({ length: n }, (_, i) => `b${String(i).padStart(3, '0')}`);
  for (const name of names) {
    // Marked as the current layout, so the daemon does not try to move them (they are not its own renderings).
    await h.sbx.writeFile(
      `/etc/systemd/system/pb-${name}.service`,
      `# pocketd-layout: ${UNIT_LAYOUT}\n[Service]\nUser=pocketbase\nExecStart=/bin/sleep infinity\n`,
    );
  }
  await h.sbx.run(['systemctl', 'daemon-reload']);
  await h.sbx.run(['systemctl', 'start', ...names.map((x) => `pb-${x}.service`)], { timeoutMs: 120_000 });
  // Idle apps answer their health checks: one process answers 200 on every stand-in's port (without it the
  // daemon would spend the bench recording 200 failing apps and, after three checks, restarting them all).
  const answer = `const http=require('http');for(let p=${firstPort};p<${firstPort + n};p++)http.createServer((q,s)=>s.end('{}')).listen(p,'127.0.0.1');`;
  await h.sbx.run(['systemd-run', `--unit=standins-${firstPort}`, '-p', 'User=nobody', '/usr/bin/node', '-e', answer]);
  await h.sbx.run(['systemctl', 'stop', 'pocketd.service']);
  const insert = `const D=require('${h.sbx.srcDir}/node_modules/better-sqlite3');const db=new D('/var/lib/pocketd/pocketd.db');
    const now=new Date().toISOString();const st=db.prepare("insert into apps (name,port,version,env,status,desired_state,created_at,updated_at) values (?,?,?,'{}','ready','running',?,?)");
    db.transaction(()=>{${JSON.stringify(names)}.forEach((n,i)=>st.run(n,${firstPort}+i,'0.23.1',now,now))})();`;
  await h.sbx.run(['node', '-e', insert], { user: 'pocketd' });
  await h.sbx.run(['systemctl', 'start', 'pocketd.service']);
  // 200 units read whole over D-Bus before it answers: long on a busy machine.
  if (!(await h.untilAnswers(900))) throw new Error('pocketd did not answer after its restart');
  return names;
}

/**
 * Gives the stand-ins a backup schedule each, straight in pocketd's store (the daemon is stopped meanwhile and
 * started again): a yearly one, so that none fires during a bench.
 */
export async function scheduleStandIns(h: PocketdHost, names: string[], expr = '0 3 1 1 *'): Promise<void> {
  await h.sbx.run(['systemctl', 'stop', 'pocketd.service']);
  const update = `const D=require('${h.sbx.srcDir}/node_modules/better-sqlite3');const db=new D('/var/lib/pocketd/pocketd.db');
    const st=db.prepare('update apps set backup_schedule=? where name=?');
    db.transaction(()=>{${JSON.stringify(names)}.forEach((n)=>st.run(${JSON.stringify(expr)},n))})();`;
  await h.sbx.run(['node', '-e', update], { user: 'pocketd' });
  await h.sbx.run(['systemctl', 'start', 'pocketd.service']);
  if (!(await h.untilAnswers(900))) throw new Error('pocketd did not answer after its restart');
}
