import { setTimeout as sleep } from 'node:timers/promises';
import type { Api } from './client.js';

interface Step {
  name: string;
  status: string;
  message: string | null;
  undo?: string | null;
}
export interface DeploymentView {
  id: number;
  app: string;
  kind: string;
  status: string;
  error: string | null;
  steps: Step[];
  outcome?: { summary: string } | null;
}
const ACTIVE = ['queued', 'pending', 'running'];

/**
 * Waits for a deployment to end, printing each step as it changes (`--json`: nothing until the end), and
 * returns it. The daemon keeps the record: a command killed here leaves the deployment running.
 */
export async function follow(api: Api, id: number, quiet = false): Promise<DeploymentView> {
  const seen = new Map<string, string>();
  let queuedSaid = false;
  for (;;) {
    const d = await api.call<DeploymentView>('GET', `/api/deployments/${id}`);
    if (!quiet) {
      if (d.status === 'queued' && !queuedSaid) {
        process.stdout.write(`${d.kind} #${d.id} of ${d.app} waits its turn\n`);
        queuedSaid = true;
      }
      for (const s of d.steps) {
        const line = `  ${s.name.padEnd(16)} ${s.status}${s.message ? `  ${s.message}` : ''}`;
        if (s.status !== 'pending' && seen.get(s.name) !== line) {
          seen.set(s.name, line);
          process.stdout.write(`${line}\n`);
        }
      }
    }
    if (!ACTIVE.includes(d.status)) return d;
    await sleep(700);
  }
}

/** Says how a deployment ended; the exit code: 0 for success, 1 otherwise (with the reason on stderr). */
export function report(d: DeploymentView, json?: boolean): number {
  if (json) process.stdout.write(`${JSON.stringify(d, null, 2)}\n`);
  else if (d.status === 'success')
    process.stdout.write(`${d.outcome?.summary ?? `${d.kind} #${d.id} of ${d.app} succeeded`}\n`);
  if (d.status === 'success') return 0;
  const lines = [`${d.kind} #${d.id} of ${d.app} ${d.status}: ${d.error ?? 'no reason recorded'}`];
  if (d.outcome) lines.push(`where the app is now: ${d.outcome.summary}`);
  for (const s of d.steps) if (s.undo) lines.push(`  undo of ${s.name}: ${s.undo}`);
  process.stderr.write(`${lines.join('\n')}\n`);
  return 1;
}

/** An operation answered either at once (`done`) or with a deployment to follow (202). */
export async function settle(api: Api, answer: unknown, json?: boolean): Promise<number> {
  const id = (answer as { deployment_id?: unknown }).deployment_id;
  const status = (answer as { status?: unknown }).status;
  if (typeof id === 'number' && (status === 'queued' || status === 'pending' || status === 'running'))
    return report(await follow(api, id, json), json);
  if (typeof id === 'number' && typeof status === 'string') return report(await follow(api, id, true), json);
  if (json) process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
  return 0;
}
