import { setTimeout as sleep } from 'node:timers/promises';
import type { DeploymentStatus, StepRow } from '../../db/schema.js';
import type { Logger } from '../../shared/log.js';
import { nowIso } from '../clock.js';

/** What a step is given while it runs. */
export interface StepContext {
  /** The deployment the step belongs to (a snapshot records it, for instance). */
  deployment: number;
  /** Whether someone asked to cancel; long steps check it at their safe points. */
  cancelled(): boolean;
}

/** One step of a deployment: what it does, and how to undo it when a later step fails. */
export interface StepDef {
  name: string;
  run: (ctx: StepContext) => Promise<string | void>;
  undo?: () => Promise<void>;
  /** Skip the step (recorded as skipped) when this says so at run time. */
  skip?: () => boolean;
  /** How the deployment ends when this step fails, if not the plan's way (a check that changed nothing: `failed`). */
  onFailure?: 'failed';
}

/** Thrown at a safe point of a deployment that was asked to cancel. */
export class CancelledError extends Error {
  constructor(by: string) {
    super(`cancelled by ${by}`);
  }
}

export type StepPatch = Partial<Pick<StepRow, 'status' | 'message' | 'started_at' | 'finished_at' | 'undo'>>;

export interface RunOptions {
  /** Records a step's progress (the store, and the event that says so). */
  record(position: number, patch: StepPatch): Promise<void>;
  /** Who asked to cancel, or null while nobody has. */
  cancelledBy(): string | null;
  /** The status when a step fails and every undo succeeds. */
  onFailure: 'failed' | 'rolled_back';
  pauseMs?: number;
  log: Logger;
}

/**
 * Runs steps in order, each recorded as it starts and ends. When one fails (or
 * a cancel is seen at a safe point) the later ones are skipped and the ones
 * that succeeded are undone in reverse; the outcome says what happened.
 */
export async function runSteps(
  deployment: number,
  steps: StepDef[],
  o: RunOptions,
): Promise<{ status: DeploymentStatus; error: string | null }> {
  const completed: Array<{ step: StepDef; position: number }> = [];
  const ctx: StepContext = { deployment, cancelled: () => o.cancelledBy() !== null };
  for (const [i, step] of steps.entries()) {
    if (step.skip?.()) {
      await o.record(i, { status: 'skipped', message: 'not needed', finished_at: nowIso() });
      continue;
    }
    await o.record(i, { status: 'running', started_at: nowIso() });
    try {
      if (o.pauseMs) await sleep(o.pauseMs);
      const by = o.cancelledBy();
      if (by !== null) throw new CancelledError(by);
      const message = await step.run(ctx);
      await o.record(i, { status: 'success', message: message ?? null, finished_at: nowIso() });
      completed.push({ step, position: i });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      o.log.warn({ deployment, step: step.name, err: reason }, 'deployment step failed');
      await o.record(i, { status: 'failed', message: reason.slice(0, 4000), finished_at: nowIso() });
      for (let j = i + 1; j < steps.length; j++)
        await o.record(j, { status: 'skipped', message: 'an earlier step failed' });
      const undoErrors = await undoAll(completed.reverse(), async (position, undo) => {
        await o.record(position, { undo });
        if (undo !== 'undone') o.log.error({ deployment, step: steps[position]?.name, err: undo }, 'undo failed');
      });
      const cancelled = err instanceof CancelledError;
      const suffix = undoErrors.length ? `; undo also failed: ${undoErrors.join('; ')}` : '';
      const what = cancelled ? `${reason} during step ${step.name}` : `step ${step.name} failed: ${reason}`;
      return {
        status: undoErrors.length ? 'failed' : cancelled ? 'cancelled' : (step.onFailure ?? o.onFailure),
        error: `${what}${suffix}`.slice(0, 8000),
      };
    }
  }
  return { status: 'success', error: null };
}

/** Undoes each step in the order given; every undo is tried, each recorded, and the ones that failed are named. */
async function undoAll(
  steps: Array<{ step: StepDef; position: number }>,
  record: (position: number, undo: string) => Promise<void>,
): Promise<string[]> {
  const errors: string[] = [];
  for (const { step, position } of steps) {
    if (!step.undo) continue;
    try {
      await step.undo();
      await record(position, 'undone');
    } catch (err) {
      errors.push(`${step.name}: ${(err as Error).message}`);
      await record(position, `failed: ${(err as Error).message}`.slice(0, 2000));
    }
  }
  return errors;
}
