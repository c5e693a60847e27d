#!/usr/bin/env node
// The bundled daemon and command line (deploy/build-daemon.mjs; `npm run build` makes it).
import('../dist/src/bundle/pocketd.mjs').then((m) => m.main(process.argv.slice(2))).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`pocketd: ${err instanceof Error ? err.message : String(err)}`); process.exitCode = 1; },
);
