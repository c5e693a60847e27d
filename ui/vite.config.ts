import { defineConfig } from 'vite';

// Preact through the automatic JSX runtime; no CDN, no external fonts: the
// build is static files the daemon serves at /.
export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 200 },
  server: { proxy: { '/api': 'http://127.0.0.1:8091' } },
});
