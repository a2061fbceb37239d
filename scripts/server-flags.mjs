// Node flags the management server runs with (npm start, bench/idle-memory.ts).
//
// V8's young generation grows to 16 MiB per semi-space by default (up to ~48 MiB of new space) and
// keeps that size while the process idles: with it the idle server held ~78 MiB of JS heap for
// ~50 MiB of live objects. 4 MiB semi-spaces hold the idle server ~35 MiB lower (bench/idle-memory.ts)
// with no import or restore slower beyond this machine's noise (bench/import-responsiveness.ts).
// A command-line flag: V8 sizes the young generation when the process starts, not at run time.
export const MANAGEMENT_SERVER_NODE_FLAGS = ['--max-semi-space-size=4'];
