import { fieldError } from '../../shared/errors.js';
import { zipTexts } from '../../host/zip-texts.js';

/**
 * PocketBase schedules jobs from hooks with `cronAdd(...)` (and `$app.cron().add(...)` in 0.23+);
 * no job runs while an app sleeps. A hook is read as text: a call in a comment counts too, which
 * errs on the side of keeping the app awake.
 */
const SCHEDULES = /\bcronAdd\s*\(|\.cron\(\s*\)\s*\.add\s*\(/;
const HOOK = /^pb_hooks\/(?:[^/]+\/)*[^/]+\.pb\.js$/;

/** The hook files of a bundle that schedule jobs (none when it has no hooks). */
export async function cronHooksOf(bundleFile: string): Promise<string[]> {
  const found: string[] = [];
  await zipTexts(
    bundleFile,
    (name) => HOOK.test(name),
    (name, text) => {
      if (SCHEDULES.test(text)) found.push(name);
    },
  );
  return found.sort();
}

export const cronRefusal = (files: string[]) =>
  `the app's hooks schedule jobs (${files.slice(0, 5).join(', ')}), which would not run while it sleeps; ` +
  'remove the cronAdd calls (or keep the app awake) to let it sleep';

/** A 422 naming `field` when the bundle's hooks schedule jobs. */
export async function assertNoCron(bundleFile: string, field: string): Promise<void> {
  const files = await cronHooksOf(bundleFile);
  if (files.length) throw fieldError(field, 'HOOKS_SCHEDULE_JOBS', cronRefusal(files));
}
