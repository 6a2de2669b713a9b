import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** The web UI: built into web/dist, which the Pixel server serves at `/`. */
export default defineConfig(({ command }) => ({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  // A build is always the production one (React's development build is 3× larger), even when it runs
  // inside a process with NODE_ENV=test (the browser tests build the UI when it is stale).
  mode: command === 'build' ? 'production' : undefined,
  define: command === 'build' ? { 'process.env.NODE_ENV': JSON.stringify('production') } : {},
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
  },
  // `npx vite web` during development: the API on a running `npm start`.
  server: {
    proxy: {
      '/pixel.v1.': 'http://127.0.0.1:8080',
      '/files/': 'http://127.0.0.1:8080',
      '/ui/session': 'http://127.0.0.1:8080',
    },
  },
}));
