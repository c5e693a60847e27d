import type { z } from 'zod';
import { OPERATION_KINDS, type OperationKind } from '../../contract/operations.js';
import type { DeploymentStatus } from '../../db/schema.js';
import type { StepDef } from './steps.js';
import type { Deployment } from './store.js';
import type { DeploymentOutcome } from './outcome.js';

/** What a queued operation turns into when its turn comes: its steps, built from the app as it is then. */
export interface Plan {
  steps: StepDef[];
  /** Replaces the recorded params once it starts (what recovery after a crash reads back). */
  params?: Record<string, unknown>;
  /** The status when a step fails and every undo succeeds: changes of a working app roll back, creates fail. */
  onFailure?: 'failed' | 'rolled_back';
  /** Where the app ended, read once the steps are done (recorded with the deployment). */
  outcome?: (status: DeploymentStatus) => Promise<DeploymentOutcome | null>;
  /** Runs after the deployment ended, whatever its status. */
  after?: (status: DeploymentStatus) => Promise<void>;
}

/** How a deployment that a stop of the daemon cut short was ended on restart. */
export interface Recovery {
  status: 'success' | 'rolled_back' | 'failed';
  error: string;
}

/**
 * A kind of operation: the params its request records (checked again when its
 * turn comes), how it plans its steps then, and how it is ended when a stop of
 * the daemon cut it short (without `recover`, it ends failed).
 */
export interface Kind<P> {
  params: z.ZodType<P>;
  plan: (d: { id: number; app: string; actor: string; params: P; input: unknown }) => Promise<Plan>;
  recover?: (d: Deployment) => Promise<Recovery>;
}

/** A deployment recorded to run when the ones before it for the same app have ended. */
export interface Queued {
  deployment_id: number;
  status: 'queued';
  position: number;
}

/** An operation answered in one of two ways: done (nothing was ahead of it), or queued behind others. */
export type InTurn<T> = { done: T } | { queued: Queued };

/** The kinds the engine knows: one planner per kind of the one list (contract/operations.ts). */
export function kindRegistry() {
  const kinds = new Map<OperationKind, Kind<unknown>>();
  return {
    get: (kind: OperationKind): Kind<unknown> | undefined => kinds.get(kind),
    /** Adds a kind of operation; its planner, params and recoverer. */
    register: <P>(kind: OperationKind, def: Kind<P>): void => {
      if (kinds.has(kind)) throw new Error(`a second planner for ${kind}`);
      kinds.set(kind, def as Kind<unknown>);
    },
    /** Throws, naming them, when a kind of the one list has no planner (called once the daemon is wired). */
    assertEveryKind: (): void => {
      const missing = OPERATION_KINDS.filter((k) => !kinds.has(k));
      if (missing.length) throw new Error(`no planner for operation kind(s): ${missing.join(', ')}`);
    },
  };
}
export type KindRegistry = ReturnType<typeof kindRegistry>;
