import { readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { REPLICA_LAYOUT, type ReplicaContext } from './replica-templates.js';
import { assertSafe, TemplateError, UNIT_LAYOUT, type SiteContext, type UnitContext } from './templates.js';

// The renderers, apart from the contexts they take: Handlebars is loaded by the helper, which renders what root
// writes, and by the daemon only when it first compares an installed file with its rendering (drift).

/** Renders the unit and site templates in `dir` (templates/ by default). */
export function createTemplates(dir: string) {
  const hb = Handlebars.create();
  const read = (file: string) => readFileSync(path.join(dir, file), 'utf8');
  const load = (file: string) => hb.compile(read(file), { noEscape: true, strict: true });
  hb.registerPartial('sandbox', read('sandbox.service.hbs'));
  const unit = load('unit.service.hbs');
  const site = load('site.caddy.hbs');
  const sandbox = load('sandbox.service.hbs');
  const wakeSocket = load('wake.socket.hbs');
  const wakeService = load('wake.service.hbs');
  return {
    renderUnit(ctx: UnitContext): string {
      assertSafe(ctx);
      return unit({ ...ctx, layout: UNIT_LAYOUT });
    },
    /** The socket and the proxy of an app that may sleep, or null for an app that never does. */
    renderWake(ctx: UnitContext): { socket: string; service: string } | null {
      assertSafe(ctx);
      if (!ctx.wake_unit) return null;
      return { socket: wakeSocket(ctx), service: wakeService(ctx) };
    },
    renderSite(ctx: SiteContext): string {
      assertSafe(ctx);
      if (ctx.addresses.length === 0) throw new TemplateError('a site needs at least one address');
      return site(ctx);
    },
    /** The unit's sandbox as `Key=Value` properties, for a transient unit (systemd-run -p) that runs as the app. */
    sandboxProperties(ctx: UnitContext): string[] {
      assertSafe(ctx);
      return sandbox(ctx)
        .split('\n')
        .filter((l) => /^[A-Za-z]+=/.test(l));
    },
  };
}

export type Templates = ReturnType<typeof createTemplates>;

/** Renders the replica unit and its sandbox from the templates in `dir` (root's copy in the helper). */
export function createReplicaTemplates(dir: string) {
  const hb = Handlebars.create();
  const read = (file: string) => readFileSync(path.join(dir, file), 'utf8');
  hb.registerPartial('replica_sandbox', read('replica-sandbox.service.hbs'));
  const unit = hb.compile(read('replica.service.hbs'), { noEscape: true, strict: false });
  const sandbox = hb.compile(read('replica-sandbox.service.hbs'), { noEscape: true, strict: false });
  return {
    renderReplicaUnit(ctx: ReplicaContext): string {
      assertSafe(ctx);
      return unit({ ...ctx, layout: REPLICA_LAYOUT });
    },
    /** The sandbox as `Key=Value` properties for systemd-run -p. */
    replicaSandboxProperties(ctx: ReplicaContext): string[] {
      assertSafe(ctx);
      return sandbox(ctx)
        .split('\n')
        .filter((l) => /^[A-Za-z]+=/.test(l));
    },
  };
}
