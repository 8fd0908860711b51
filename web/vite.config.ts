import { defineConfig } from 'vite';

// The page is served by `wangge serve` from `/` (or any sub-path), so every URL is relative.
// `npm run dev` proxies the API to a running server: WANGGE_API=http://127.0.0.1:PORT npm run dev
const api = process.env.WANGGE_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // MapLibre alone is ~1 MB minified; one chunk is fine for a single-page map.
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      output: {
        // The MapLibre worker is emitted as an asset; give it a `.js` name so any static
        // server sends a JavaScript MIME type (module workers refuse anything else).
        assetFileNames: (info) => {
          const name = info.names?.[0] ?? '';
          return name.endsWith('.mjs') ? 'assets/[name]-[hash].js' : 'assets/[name]-[hash][extname]';
        },
      },
    },
  },
  server: {
    proxy: {
      '/api': api,
      '/healthz': api,
    },
  },
});
