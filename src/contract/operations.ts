/**
 * Every kind of operation an app's queue runs, in one list: the deployments table records one
 * of these, the API answers with one, and each has exactly one planner (core/deployments/engine.ts
 * refuses a second registration and a kind without one). To add an operation, add its kind here,
 * then register its planner in the core module that owns it.
 */
export const OPERATION_KINDS = [
  'create',
  'start',
  'stop',
  'restart',
  'configure',
  'repair',
  'env',
  'superuser',
  'delete',
  'upgrade',
  'deploy',
  'rollback',
  'restore',
  'backup',
  'replica-restore',
  'recover',
  'restore-archive',
] as const;

export type OperationKind = (typeof OPERATION_KINDS)[number];
