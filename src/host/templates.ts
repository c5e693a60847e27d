import { readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';

export interface UnitContext {
  name: string;
  apps_user: string;
  app_dir: string;
  release_bin: string;
  port: number;
  env_file: string;
  memory_max: string | null;
  cpu_quota: number | null;
}

export interface SiteContext {
  name: string;
  addresses: string[];
  port: number;
  body_max: string;
}

export class TemplateError extends Error {
  override name = 'TemplateError';
}

// Values are validated before they get here; this is the last line: anything
// that could end a directive, open a block or quote text is refused, not escaped.
const UNSAFE = /[\0-\x1f\x7f{}"'`\\;$%\s]/;

function assertSafe(ctx: object): void {
  for (const [key, value] of Object.entries(ctx)) {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (v === null || typeof v === 'number') continue;
      if (typeof v !== 'string' || v.length === 0 || UNSAFE.test(v)) {
        throw new TemplateError(`template value ${key}=${JSON.stringify(v)} is not allowed in a unit or site file`);
      }
    }
  }
}

/** Renders the unit and site templates in `dir` (templates/ by default). */
export function createTemplates(dir: string) {
  const load = (file: string) => Handlebars.compile(readFileSync(path.join(dir, file), 'utf8'), { noEscape: true, strict: true });
  const unit = load('unit.service.hbs');
  const site = load('site.caddy.hbs');
  return {
    renderUnit(ctx: UnitContext): string {
      assertSafe(ctx);
      return unit(ctx);
    },
    renderSite(ctx: SiteContext): string {
      assertSafe(ctx);
      if (ctx.addresses.length === 0) throw new TemplateError('a site needs at least one address');
      return site(ctx);
    },
  };
}

export type Templates = ReturnType<typeof createTemplates>;
