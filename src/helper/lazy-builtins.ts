import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/**
 * node:http, loaded when a verb first needs it rather than when the helper starts: the helper runs
 * from a V8 startup snapshot of its evaluated bundle (deploy/build-helper.mjs, deploy/install.sh),
 * and Node 20's snapshot builder cannot load node:http.
 */
export function httpModule(): typeof import('node:http') {
  return load('node:http') as typeof import('node:http');
}
