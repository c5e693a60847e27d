// Bundles the root helper (src/helper/main.ts, compiled to dist/) with every
// library it loads into one file, dist/helper/pocketd-helper.cjs (CommonJS: a V8
// startup snapshot is built from a script, see deploy/install.sh), which
// deploy/install.sh copies into a root-owned directory beside root's copy of
// templates/. Nothing the helper runs is then loaded from a path the daemon's
// user could write.
import { build } from 'vite';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
await build({
  configFile: false,
  root,
  logLevel: 'warn',
  build: {
    ssr: path.join(root, 'dist/src/helper/main.js'),
    outDir: path.join(root, 'dist/helper'),
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: false,
    rollupOptions: { output: { format: 'cjs', entryFileNames: 'pocketd-helper.cjs', codeSplitting: false } },
  },
  ssr: { noExternal: true, target: 'node' },
});
