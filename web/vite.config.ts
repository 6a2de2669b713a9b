import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** The web UI: built into web/dist, which the Pixel server serves at `/`. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
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
});
