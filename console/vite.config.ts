// The console is served by the `console` Spin component under /console/ (components/console
// embeds dist/ at build time). `npm run dev` serves it from Vite instead and forwards API
// calls to RH_API_URL (default: ./scripts/up's http://127.0.0.1:8080).
import { defineConfig } from "vite";

const api = process.env.RH_API_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  base: "/console/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // No inline scripts or styles: the page's Content-Security-Policy allows 'self' only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: "es2022",
  },
  server: {
    proxy: {
      "/api": api,
      "/console/config.json": api,
    },
  },
});
