import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, "../src/beffroi/console/static");

// The API's documentation page (/api/docs) uses Swagger UI: shipped with the console rather
// than loaded from a CDN, since a control room may be offline.
function apiDocsAssets(): Plugin {
  const files = ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "oauth2-redirect.html"];
  return {
    name: "beffroi-api-docs-assets",
    apply: "build",
    closeBundle() {
      const target = join(outDir, "api-docs");
      mkdirSync(target, { recursive: true });
      for (const file of files) copyFileSync(join(here, "node_modules/swagger-ui-dist", file), join(target, file));
    },
  };
}

// `npx vite` serves the console with hot reload against a running server:
// BEFFROI_URL=http://127.0.0.1:8000 npx vite
const api = process.env.BEFFROI_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  base: "/",
  plugins: [apiDocsAssets()],
  build: {
    outDir,
    emptyOutDir: true,
    // The map's 36,000 points are the heavy part, not the bundle: one chunk loads fastest.
    chunkSizeWarningLimit: 400,
    // Two pages: the console (/) and the public portal (/open/, served by console/static.py).
    rollupOptions: {
      input: { console: join(here, "index.html"), portal: join(here, "portal.html") },
    },
  },
  server: {
    proxy: {
      "/api": { target: api, changeOrigin: false, ws: true },
      "/open311": { target: api, changeOrigin: false },
    },
  },
});
