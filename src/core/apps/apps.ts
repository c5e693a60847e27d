import type { AppDeps } from './deps.js';
import { createCreation } from './create.js';
import { createValidation } from './validate.js';
import { createViews } from './views.js';

export type { AppState, AppView, AppDetail, FileMatch, Runtime } from './views.js';
export type { ValidationReport } from './validate.js';

/** Apps as the API sees them: what they are (views), and how a new one is checked and created. */
export function createApps(deps: AppDeps) {
  const validateCreate = createValidation(deps);
  const { create, serial } = createCreation(deps, validateCreate);
  return { validateCreate, create, serialCreate: serial, ...createViews(deps), markStale: deps.store.markStale };
}

export type Apps = ReturnType<typeof createApps>;
