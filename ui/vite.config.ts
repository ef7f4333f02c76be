// Vite builds the app into `dist/`, which `vexil serve` embeds. `npm run dev`
// serves it with hot reload and proxies the API to a running server
// (`VEXIL_URL`, default http://127.0.0.1:8080).
import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

declare const process: { env: Record<string, string | undefined> };

const server = process.env.VEXIL_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [svelte()],
  // The preview's engine (`@vexil/sdk`, linked from ../sdk-wasm/js) loads
  // its `.wasm` beside its JavaScript: served from there in development,
  // emitted as an asset by the build; never pre-bundled.
  optimizeDeps: { exclude: ['@vexil/sdk'] },
  server: {
    fs: { allow: ['..'] },
    proxy: {
      '/api': { target: server, ws: true },
      '/healthz': server,
    },
  },
  build: { outDir: 'dist', emptyOutDir: true },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
