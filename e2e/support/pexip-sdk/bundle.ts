import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

/**
 * Bundles the Pexip SDK driver (entry.ts, with `@pexip/infinity` and its dependencies) into one
 * browser script, in memory. Built once per test process.
 */
let cached: Promise<string> | null = null;

export function pexipSdkBundle(): Promise<string> {
  cached ??= build({
    entryPoints: [fileURLToPath(new URL('./entry.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    // Inline source maps (readable SDK stack traces) make the page 4× larger: on demand only.
    sourcemap: process.env.PEXIP_SDK_SOURCEMAP ? 'inline' : false,
    logLevel: 'silent',
    // The SDK reads process.env.NODE_ENV in places; the page has no `process`.
    define: { 'process.env.NODE_ENV': '"production"' },
  }).then((r) => r.outputFiles[0]!.text);
  return cached;
}

/** The test page: the bundle inline, nothing else. */
export async function pexipSdkHtml(): Promise<string> {
  const js = (await pexipSdkBundle()).replaceAll('</script', '<\\/script');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Pexip SDK test client</title></head>
<body><h1>Pexip SDK test client</h1><script>${js}</script></body></html>`;
}
