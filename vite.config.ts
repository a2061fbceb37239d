import { defineConfig } from 'vite';

/**
 * One build, two single-page apps: the admin console (served by the management server at `/`)
 * and the meeting client (served by every conferencing node at `/webapp/`). Vite's own JSX
 * transform is used; no React plugin is needed for a production build.
 */
export default defineConfig({
  root: 'web',
  base: '/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    rollupOptions: {
      input: { console: 'web/console/index.html', webapp: 'web/webapp/index.html' },
      // Libraries' "use client" directives mean nothing outside React Server Components.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: {
    proxy: {
      '/trpc': { target: 'http://127.0.0.1:8080', ws: true },
      '/api/admin': 'http://127.0.0.1:8080',
    },
  },
});
