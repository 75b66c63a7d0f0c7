import { defineConfig } from "vite";

// `npx vite` serves the console with hot reload against a running server:
// BEFFROI_URL=http://127.0.0.1:8000 npx vite
const api = process.env.BEFFROI_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  base: "/",
  build: {
    outDir: "../src/beffroi/console/static",
    emptyOutDir: true,
    // The map's 36,000 points are the heavy part, not the bundle: one chunk loads fastest.
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: {
      "/api": { target: api, changeOrigin: false, ws: true },
    },
  },
});
