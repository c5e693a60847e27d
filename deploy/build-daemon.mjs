// Bundles the daemon and its command line (src/cli/main.ts, compiled to dist/) with the libraries it
// loads into dist/src/bundle/pocketd.mjs, the file bin/pocketd.js runs. One module instead of about a
// thousand (Kysely's 577, zod's 198 with 48 locales pocketd never uses, hono's 114, pocketd's own): with 200
// apps the daemon's RSS is about 10 MiB lower. Code loaded on first use (Handlebars, the zip reader, the
// multipart parser, nodemailer) stays in chunks of its own beside it. The bundle sits at the depth of
// dist/src/<dir>/, so the paths its modules resolve from import.meta.url (package.json, templates/) hold.
// Left outside: better-sqlite3 (a native addon) and pino with pino-pretty (a transport runs in a worker
// from its own files).
import { build } from 'vite';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const external = ['better-sqlite3', 'pino', 'pino-pretty'];
await build({
  configFile: false,
  root,
  logLevel: 'warn',
  build: {
    ssr: path.join(root, 'dist/src/cli/main.js'),
    outDir: path.join(root, 'dist/src/bundle'),
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: false,
    rollupOptions: { external, output: { format: 'esm', entryFileNames: 'pocketd.mjs', chunkFileNames: '[name]-[hash].mjs' } },
  },
  ssr: { noExternal: true, external, target: 'node' },
});
