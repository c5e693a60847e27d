import type { OperationKind } from '../../contract/operations.js';
import type { Logger } from '../../shared/log.js';
import { nowIso } from '../clock.js';
import type { EventBus } from '../events.js';
import type { Endings } from './endings.js';
import type { KindRegistry, Plan } from './kinds.js';
import { runSteps, type StepPatch } from './steps.js';
import type { DeploymentStore } from './store.js';

/** A deployment claimed to run now, as the store recorded it. */
export interface Claimed {
  id: number;
  kind: OperationKind;
  actor: string;
  params: string;
}

/**
 * Runs one claimed deployment: plans it (the app as it is now), records its
 * steps, executes them (steps.ts), records where the app ended and how the
 * deployment ended. Never throws: a failure of its own ends the deployment failed.
 */
export function createRunner(deps: {
  store: DeploymentStore;
  events: EventBus;
  log: Logger;
  kinds: KindRegistry;
  finish: Endings['finish'];
  /** Deployments that can be cancelled now, with who asked (null while nobody has). */
  cancels: Map<number, string | null>;
  stepPauseMs?: number;
}) {
  const { store, events, log, kinds, finish, cancels } = deps;
  return async function runOne(app: string, { id, kind, actor, params: rawParams }: Claimed): Promise<void> {
    try {
      const def = kinds.get(kind);
      let plan: Plan;
      try {
        if (!def) throw new Error(`no planner for ${kind}`);
        const params = def.params.parse(JSON.parse(rawParams));
        plan = await def.plan({ id, app, actor, params, input: await store.input(id) });
      } catch (err) {
        await store.set(id, { started_at: nowIso() });
        await finish(id, app, 'failed', `could not start: ${(err as Error).message}`.slice(0, 8000));
        return;
      }
      if (plan.params) await store.set(id, { params: JSON.stringify(plan.params) });
      await store.insertSteps(
        id,
        plan.steps.map((s) => s.name),
      );
      await store.set(id, { status: 'running', started_at: nowIso() });
      events.publish('deployment.started', app, { deployment_id: id });
      const outcome = await runSteps(id, plan.steps, {
        record: async (position: number, patch: StepPatch) => {
          await store.setStep(id, position, patch);
          events.publish('deployment.step', app, { deployment_id: id, position, ...patch });
        },
        cancelledBy: () => cancels.get(id) ?? null,
        onFailure: plan.onFailure ?? 'failed',
        pauseMs: deps.stepPauseMs,
        log: log.child({ app }),
      });
      const where = await plan.outcome?.(outcome.status).catch((err: unknown) => {
        log.warn({ err, deployment: id }, 'where the app ended could not be read');
        return null;
      });
      if (where) await store.set(id, { outcome: JSON.stringify(where) });
      await finish(id, app, outcome.status, outcome.error);
      await plan
        .after?.(outcome.status)
        .catch((err: unknown) => log.error({ err, deployment: id }, 'after a deployment failed'));
    } catch (err) {
      log.error({ err, deployment: id }, 'deployment runner failed');
      await finish(id, app, 'failed', `internal error: ${(err as Error).message}`);
    } finally {
      cancels.delete(id);
    }
  };
}
export type RunOne = ReturnType<typeof createRunner>;
