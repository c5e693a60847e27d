import { createRequire } from 'node:module';

/**
 * Kysely's CommonJS build, for every module of pocketd that uses Kysely at run time (its types come from the
 * package as usual). Its ES build is 577 modules, each with a module record of its own: about 1 MiB more of the
 * daemon's heap than the same code in CommonJS, measured with `--expose-gc` after import.
 */
const kysely = createRequire(import.meta.url)('kysely') as typeof import('kysely');

export const { sql, Kysely, Migrator, SqliteDialect } = kysely;
export type Kysely<DB> = import('kysely').Kysely<DB>;
