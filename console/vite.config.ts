// The operations console, built into static files (console/dist) that the platform serves under /console/
// with a strict Content-Security-Policy: no inline script, nothing loaded from elsewhere. Preact's JSX is
// compiled by Vite's own esbuild; no Babel.
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // One small bundle per page load: the console is a single page.
    target: 'es2022',
    sourcemap: false,
  },
});
