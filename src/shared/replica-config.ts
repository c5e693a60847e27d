import path from 'node:path';
import { REPLICATED_DBS, type ReplicaSpec, type ReplicaTarget } from './replica-rules.js';

/**
 * Litestream's configuration for one app, rendered by the helper from a
 * validated spec. Written as JSON (YAML reads JSON as it is): no value is ever
 * spliced into YAML text. Litestream runs it with -no-expand-env.
 */

export interface AgeKeys {
  identity: string;
  recipient: string;
}

export interface ConfigPlaces {
  /** The app's pb_data as the replica's unit sees it. */
  pbData: string;
  /** Litestream's own state (its shadow WAL), outside the app's reach. */
  metaDir: string;
  /** The SFTP key as the unit sees it (its credentials directory). */
  keyFile: string;
}

/** Where an app's replica lives inside the target: under the app's name and identity. */
export const replicaRoot = (target: ReplicaTarget, source: string, appId: string) =>
  target.type === 's3' ? `${target.path}/${source}.${appId}` : path.posix.join(target.path, `${source}.${appId}`);

function replicaOf(spec: ReplicaSpec, source: string, db: string, keys: AgeKeys, keyFile: string) {
  const t = spec.target;
  const common = {
    path: `${replicaRoot(t, source, spec.app_id)}/${db}`,
    'sync-interval': `${spec.sync_seconds}s`,
    'snapshot-interval': `${spec.snapshot_hours}h`,
    retention: `${spec.retention_hours}h`,
    'validation-interval': '0s',
    age: { identities: [keys.identity], recipients: [keys.recipient] },
  };
  if (t.type === 's3')
    return {
      type: 's3',
      name: 'target',
      bucket: t.bucket,
      endpoint: t.endpoint,
      region: t.region,
      'force-path-style': true,
      'access-key-id': t.access_key_id,
      'secret-access-key': t.secret_access_key,
      ...common,
    };
  return { type: 'sftp', name: 'target', host: `${t.host}:${t.port}`, user: t.user, 'key-path': keyFile, ...common };
}

/** The config of `source`'s replica; `dbs` limits it to some databases (all three by default). */
export function renderLitestreamConfig(
  spec: ReplicaSpec,
  source: string,
  keys: AgeKeys,
  places: ConfigPlaces,
  dbs: readonly string[] = REPLICATED_DBS,
): string {
  const doc = {
    logging: { level: 'info', type: 'text', stderr: true },
    dbs: dbs.map((db) => ({
      path: path.join(places.pbData, db),
      'meta-path': path.join(places.metaDir, `${db}-litestream`),
      replicas: [replicaOf(spec, source, db, keys, places.keyFile)],
    })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Litestream's `generations` table: one row per generation of a database in the target. */
export interface Generation {
  generation: string;
  lag_seconds: number | null;
  start: string;
  end: string;
}

export function parseGenerations(text: string): Generation[] {
  const out: Generation[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || !/^[0-9a-f]{16}$/.test(f[1]!)) continue;
    out.push({ generation: f[1]!, lag_seconds: parseLag(f[2]!), start: f[3]!, end: f[4]! });
  }
  return out;
}

/** Go's duration text (1h2m3.5s, 250ms, -1s) in seconds. */
export function parseLag(d: string): number | null {
  const m = /^(-)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:([\d.]+)s)?(?:([\d.]+)ms)?(?:([\d.]+)µs)?$/.exec(d);
  if (!m || d === '' || d === '-') return null;
  const v =
    Number(m[2] ?? 0) * 3600 +
    Number(m[3] ?? 0) * 60 +
    Number(m[4] ?? 0) +
    Number(m[5] ?? 0) / 1000 +
    Number(m[6] ?? 0) / 1e6;
  return m[1] ? -v : v;
}
