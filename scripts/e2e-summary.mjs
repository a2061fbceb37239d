// What failed in the end-to-end run, in a few lines printed last: a CI log is often read from its
// tail, and Playwright's own report puts each error's message far above it.
import { existsSync, readFileSync } from 'node:fs';

/** Terminal colour codes in Playwright's error messages. */
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** Playwright's JSON report → one line per failed attempt, with what the test printed about itself. */
export function e2eFailureSummary(file) {
  if (!existsSync(file)) return [];
  let report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return [`(the report ${file} could not be read)`];
  }
  const lines = [];
  const oneLine = (s, max) => {
    const flat = String(s).replace(ANSI_COLOUR, '').replace(/\s+/g, ' ').trim();
    return flat.length > max ? `${flat.slice(0, max)}…` : flat;
  };
  const visit = (suite) => {
    for (const spec of suite.specs ?? [])
      for (const t of spec.tests ?? [])
        (t.results ?? []).forEach((r, attempt) => {
          if (r.status === 'passed' || r.status === 'skipped') return;
          lines.push(`✘ ${spec.file}:${spec.line} attempt ${attempt + 1} (${r.status}): ${oneLine(spec.title, 100)}`);
          const message = r.error?.message ?? r.errors?.[0]?.message;
          if (message) lines.push(`    ${oneLine(message, 400)}`);
          const printed = (r.stdout ?? [])
            .map((o) => o.text ?? '')
            .join('')
            .split('\n')
            .filter((l) => / e2e: /.test(` ${l}`));
          for (const l of printed.slice(-2)) lines.push(`    ${oneLine(l, 600)}`);
        });
    for (const s of suite.suites ?? []) visit(s);
  };
  for (const s of report.suites ?? []) visit(s);
  return lines;
}
