import { z } from '@hono/zod-openapi';
import { appNameSchema } from '../shared/rules.js';

/** An app's environment: read (secrets masked) and replaced in the app's queue. */
export const NameParam = z.object({ name: appNameSchema });
export const Env = z
  .object({ env: z.record(z.string(), z.string()).describe('Values of secret-looking keys are masked') })
  .openapi('Env');
