import type { AppDeps } from './app-deps.js';
import { createCreate } from './app-create.js';
import { createValidation } from './app-validate.js';
import { createViews } from './app-views.js';

export type { AppState, AppView, AppDetail, FileMatch, Runtime } from './app-views.js';
export type { ValidationReport } from './app-validate.js';

/** Apps as the API sees them: what they are (views), and how a new one is checked and created. */
export function createApps(deps: AppDeps) {
  const validateCreate = createValidation(deps);
  const { create } = createCreate(deps, validateCreate);
  return { validateCreate, create, ...createViews(deps), markStale: deps.store.markStale };
}

export type Apps = ReturnType<typeof createApps>;
