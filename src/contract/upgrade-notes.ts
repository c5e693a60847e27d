import { z } from '@hono/zod-openapi';
import { versionSchema } from '../shared/rules.js';

export const BreakingRelease = z
  .object({ version: z.string(), summary: z.string(), changes: z.array(z.string()) })
  .openapi('BreakingRelease');
export const NotedRelease = z
  .object({
    version: z.string(),
    prerelease: z.boolean(),
    published_at: z.string().nullable(),
    notes: z.string().describe("The release's notes as the source wrote them (markdown), at most 20,000 characters"),
    notes_truncated: z.boolean(),
  })
  .openapi('NotedRelease');
export const UpgradeNotes = z
  .object({
    app: z.string(),
    from: z.string(),
    to: z.string(),
    direction: z.enum(['upgrade', 'downgrade']),
    breaking: z
      .array(BreakingRelease)
      .describe('Breaking releases the move crosses, oldest first (going down: the ones whose changes are undone)'),
    releases: z
      .array(NotedRelease)
      .describe(
        'The releases after the older version up to the newer one, oldest first; prereleases only when one is the target',
      ),
    refused: z
      .object({ code: z.string(), message: z.string() })
      .nullable()
      .describe('Why an upgrade to this version is refused (then only a rollback with data returns there)'),
  })
  .openapi('UpgradeNotes');
export const UpgradeNotesQuery = z.object({ to: versionSchema.describe('The version the app would move to') }).strict();

export type UpgradeNotes = z.infer<typeof UpgradeNotes>;
