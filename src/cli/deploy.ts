import { parse } from './args.js';
import { name } from './apps.js';
import type { Api } from './client.js';
import { follow, report } from './follow.js';

/** `pocketd deploy <app> <zip>`: uploads the bundle, deploys it, prints each step; non-zero with the reason. */
export async function deploy(api: Api, args: string[]): Promise<number> {
  const { values, pos } = parse(args, { notes: { type: 'string' }, supersede: { type: 'boolean' } }, ['app', 'zip']);
  const app = name(pos.app);
  const bundle = await api.upload<{ number: number; files: number; size_bytes: number }>(
    `/api/apps/${app}/bundles`,
    pos.zip!,
    values.notes === undefined ? {} : { notes: values.notes },
  );
  if (!values.json)
    process.stdout.write(`bundle ${bundle.number}: ${bundle.files} files, ${bundle.size_bytes} bytes\n`);
  const r = await api.call<{ deployment_id: number }>('POST', `/api/apps/${app}/deploy`, {
    bundle: bundle.number,
    supersede: values.supersede === true,
  });
  return report(await follow(api, r.deployment_id, values.json), values.json);
}
