import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, lstat, rm } from 'node:fs/promises';
import path from 'node:path';
import { readIfExists } from '../shared/files.js';
import { replicaUnitName } from '../shared/naming.js';
import {
  replicaSpecSchema,
  type ReplicaRestoreSpec,
  type ReplicaSpec,
  type ReplicaTarget,
} from '../shared/replica-rules.js';
import { createReplicaTemplates } from '../shared/render.js';
import { replicaContext, type ReplicaContext } from '../shared/replica-templates.js';
import type { HelperContext } from './context.js';
import { HelperError } from './errors.js';
import { ensureRootDir, writeRootFile, type Ids } from './root-files.js';
import { ensureReplicaUser, removeReplicaUser } from './replica-user.js';
import { renderLitestreamConfig, type AgeKeys } from '../shared/replica-config.js';
import { renderRcloneConfig } from '../shared/replica-files.js';
import { SANDBOX_NODE_FLAGS } from './sandbox-run.js';
import { assertStopped } from './units.js';

/**
 * An app's off-host replication (issue #27): a unit of its own per app
 * (`pocketd-replica-<name>.service`, Litestream) that runs as a dynamic user
 * in the app's group, never as the app. The target's credentials live in
 * root's files under `replica_dir` (0600) and reach only that unit (and the
 * helper's transient ones) as systemd credentials. Everything uploaded is
 * encrypted with the host's age key, made here once and kept by root.
 */

export const replicaUnit = replicaUnitName;
export const dirOf = (ctx: HelperContext) => path.join(path.dirname(ctx.config.env_dir), 'replica');
const specFile = (ctx: HelperContext, name: string) => path.join(dirOf(ctx), `${name}.json`);
export const litestreamOf = (ctx: HelperContext) => path.join(path.dirname(ctx.config.templates_dir), 'litestream');
export const AGE_KEY = 'age.key';
const templatesOf = (ctx: HelperContext) => createReplicaTemplates(ctx.config.templates_dir);

/** The host's age key pair; made on first use (age-keygen), root's alone. */
export async function ageKeys(ctx: HelperContext): Promise<AgeKeys> {
  await ensureRootDir(dirOf(ctx), 0o711);
  let text = await readIfExists(path.join(dirOf(ctx), AGE_KEY));
  if (text === null) {
    const made = await ctx.run(72, 'age-keygen', []);
    await writeRootFile(dirOf(ctx), AGE_KEY, made, 0o600);
    text = made;
  }
  return parseAgeKey(text);
}

export function parseAgeKey(text: string): AgeKeys {
  const identity = /^(AGE-SECRET-KEY-1[0-9A-Z]{58})$/m.exec(text)?.[1];
  const recipient = /^# public key: (age1[0-9a-z]{58})$/m.exec(text)?.[1];
  if (!identity || !recipient) throw new HelperError(72, 'the replica key file is not an age key (age-keygen)');
  return { identity, recipient };
}

export async function assertLitestream(ctx: HelperContext): Promise<string> {
  const bin = litestreamOf(ctx);
  const st = await lstat(bin).catch(() => null);
  if (!st?.isFile() || st.uid !== 0 || (st.mode & 0o022) !== 0)
    throw new HelperError(72, `Litestream is not installed as root's at ${bin} (deploy/install.sh puts it there)`);
  return bin;
}

/**
 * Writes, for one unit, the Litestream config (and the SFTP key) as root's 0600
 * files that the unit loads as credentials. Answers the template context.
 */
async function writeUnitFiles(
  ctx: HelperContext,
  name: string,
  unit: string,
  spec: ReplicaSpec,
  source: string,
): Promise<ReplicaContext> {
  const keys = await ageKeys(ctx);
  const owner = await ensureReplicaUser(ctx, name);
  const base = unit.replace(/\.service$/, '');
  const rc = replicaContext(ctx.layout, name, {
    config_file: path.join(dirOf(ctx), `${base}.yml`),
    rclone_file: path.join(dirOf(ctx), `${base}.rclone`),
    key_file: spec.target.type === 'sftp' ? path.join(dirOf(ctx), `${base}.key`) : null,
    litestream: await assertLitestream(ctx),
  });
  const config = renderLitestreamConfig(spec, source, keys, {
    pbData: path.join(rc.app_dir, 'pb_data'),
    metaDir: `/var/lib/${rc.state_dir}`,
    keyFile: rc.key_file ?? '',
  });
  await writeOwnedFile(dirOf(ctx), path.basename(rc.config_file), config, owner);
  const rclone = renderRcloneConfig(spec.target, rc.key_file);
  await writeOwnedFile(dirOf(ctx), path.basename(rc.rclone_file), rclone, owner);
  if (spec.target.type === 'sftp' && rc.key_file)
    await writeOwnedFile(dirOf(ctx), path.basename(rc.key_file), ensureNewline(spec.target.private_key), owner);
  return rc;
}

const ensureNewline = (s: string) => (s.endsWith('\n') ? s : `${s}\n`);

/** A file of the replica's user alone (0600) in root's directory: written by root under a fresh name, then renamed. */
async function writeOwnedFile(dir: string, name: string, content: string, owner: Ids): Promise<void> {
  await writeRootFile(dir, name, content, 0o600);
  await chown(path.join(dir, name), owner.uid, owner.gid);
}

async function removeUnitFiles(ctx: HelperContext, unit: string): Promise<void> {
  const base = unit.replace(/\.service$/, '');
  for (const ext of ['yml', 'rclone', 'key']) await rm(path.join(dirOf(ctx), `${base}.${ext}`), { force: true });
}

/** replica-install: (re)writes the app's replica unit and its credentials, opens its databases to it, starts it. */
export async function installReplica(ctx: HelperContext, name: string, spec: ReplicaSpec): Promise<void> {
  ctx.appIds(name);
  await ensureRootDir(dirOf(ctx), 0o711);
  const unit = replicaUnit(name);
  const rc = await writeUnitFiles(ctx, name, unit, spec, name);
  await writeRootFile(dirOf(ctx), `${name}.json`, `${JSON.stringify(spec)}\n`, 0o600);
  await writeRootFile(ctx.config.unit_dir, unit, templatesOf(ctx).renderReplicaUnit(rc), 0o644);
  await ctx.asApp(name, 'replica-prepare');
  await ctx.run(69, 'systemctl', ['daemon-reload']);
  await ctx.run(69, 'systemctl', ['enable', '--quiet', unit]);
  await ctx.run(69, 'systemctl', ['restart', unit]);
}

/** replica-remove: the unit and the credentials go; what was replicated stays in the target. */
export async function removeReplica(ctx: HelperContext, name: string): Promise<void> {
  const unit = replicaUnit(name);
  await ctx.run(69, 'systemctl', ['disable', '--now', '--quiet', unit], { allowFailure: true });
  await rm(path.join(ctx.config.unit_dir, unit), { force: true });
  await removeUnitFiles(ctx, unit);
  await rm(specFile(ctx, name), { force: true });
  await ctx.run(69, 'systemctl', ['daemon-reload']);
  await ctx.run(69, 'systemctl', ['reset-failed', unit], { allowFailure: true });
  // Litestream's own state of this app (its shadow WAL) goes with its user.
  await rm(path.join('/var/lib/pocketd-replica', name), { recursive: true, force: true });
  await removeReplicaUser(ctx, name);
}

/** replica-control: starts or stops the app's replica unit (around a restore), when it has one. */
export async function controlReplica(ctx: HelperContext, name: string, verb: 'start' | 'stop'): Promise<void> {
  if ((await readIfExists(specFile(ctx, name))) === null) return;
  if (verb === 'start') await ctx.asApp(name, 'replica-prepare');
  await ctx.run(69, 'systemctl', [verb, replicaUnit(name)]);
}

export async function savedSpec(ctx: HelperContext, name: string): Promise<ReplicaSpec | null> {
  const text = await readIfExists(specFile(ctx, name));
  return text === null ? null : replicaSpecSchema.parse(JSON.parse(text));
}

/** Runs argv(unit) in a transient unit with the replica's sandbox and `spec`'s credentials; its files go after. */
export async function inReplicaSandbox(
  ctx: HelperContext,
  name: string,
  spec: ReplicaSpec,
  source: string,
  argv: (rc: ReplicaContext) => string[],
  stdin?: NodeJS.ReadableStream,
): Promise<{ done: Promise<void>; stdout: NodeJS.ReadableStream; stderr: () => string }> {
  const unit = `pocketd-replica-work-${name}_${randomBytes(6).toString('hex')}.service`;
  const rc = await writeUnitFiles(ctx, name, unit, spec, source);
  const props = templatesOf(ctx)
    .replicaSandboxProperties(rc)
    .flatMap((p) => ['-p', p]);
  const child = spawn(
    'systemd-run',
    [
      '--quiet',
      '--wait',
      '--collect',
      '--pipe',
      `--unit=${unit}`,
      ...props,
      '-p',
      'RuntimeMaxSec=3600',
      '-p',
      'Environment=HOME=/nonexistent LC_ALL=C.UTF-8',
      '--',
      ...argv(rc),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'], cwd: '/' },
  );
  if (!stdin) child.stdin.end();
  if (stdin) {
    child.stdin.on('error', () => undefined);
    stdin.pipe(child.stdin);
  }
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    if (err.length < 8000) err += d.toString();
  });
  const done = new Promise<void>((resolve, reject) =>
    child.on('exit', (code) => {
      void removeUnitFiles(ctx, unit).finally(() => {
        if (code === 0) resolve();
        else reject(new HelperError(72, err.trim().split('\n').slice(-3).join('; ') || `${unit} exited ${code}`));
      });
    }),
  );
  return { done, stdout: child.stdout, stderr: () => err };
}

/**
 * replica-restore NAME: with NAME stopped, its databases are replaced by the
 * replica's (the latest, or as they were at `timestamp`): the replica's unit
 * restores them and prints a tar, which the app's own as-app work unpacks.
 */
export async function restoreReplica(ctx: HelperContext, name: string, req: ReplicaRestoreSpec): Promise<void> {
  await assertStopped(ctx, name);
  ctx.appIds(name);
  const litestream = await assertLitestream(ctx);
  const pbData = path.join(ctx.appDir(name), 'pb_data');
  const w = await inReplicaSandbox(ctx, name, req.spec, req.source, (rc) => [
    process.execPath,
    ...SANDBOX_NODE_FLAGS,
    ctx.selfFile,
    'as-replica',
    'restore',
    litestream,
    pbData,
    rc.config_file,
    req.timestamp ?? 'latest',
  ]);
  const into = ctx.asApp(name, 'replica-restore', { stdin: w.stdout, timeoutMs: 60 * 60_000 });
  const results = await Promise.allSettled([w.done, into]);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}

/** replica-generations NAME: Litestream's table of the generations the target holds of the app's data.db. */
export async function replicaGenerations(ctx: HelperContext, name: string): Promise<string> {
  const spec = await savedSpec(ctx, name);
  if (!spec) throw new HelperError(72, `app ${name} has no replica`);
  return generationsOf(ctx, name, spec, name);
}

async function generationsOf(ctx: HelperContext, name: string, spec: ReplicaSpec, source: string) {
  const litestream = await assertLitestream(ctx);
  const db = path.join(ctx.appDir(name), 'pb_data', 'data.db');
  const w = await inReplicaSandbox(ctx, name, spec, source, (rc) => [
    litestream,
    'generations',
    '-no-expand-env',
    '-config',
    rc.config_file,
    db,
  ]);
  const chunks: Buffer[] = [];
  w.stdout.on('data', (d: Buffer) => chunks.push(d));
  await w.done;
  // Litestream lists what it could and logs what it could not (exit 0): a logged error is a failure here.
  const failed = /level=ERROR msg="([^"]*)".*?error="([^"]*)"/.exec(w.stderr());
  if (failed) throw new HelperError(72, `${failed[1]}: ${failed[2]!.split('\\n')[0]}`);
  return Buffer.concat(chunks).toString('utf8');
}

/** replica-check NAME: lists the target with the given credentials, in a throwaway unit of the replica's sandbox. */
export async function checkTarget(ctx: HelperContext, name: string, target: ReplicaTarget): Promise<string> {
  ctx.appIds(name);
  const spec = replicaSpecSchema.parse({ app_id: '0000000000000000', target });
  return generationsOf(ctx, name, spec, `check-${randomBytes(4).toString('hex')}`);
}
