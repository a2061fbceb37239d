import type { z } from 'zod';

/** zod issues → `{ field: [messages] }`, the management API's error body and the console's field errors. */
export function fieldErrors(issues: readonly z.core.$ZodIssue[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of issues) {
    const key = issue.path.length ? issue.path.join('.') : '__all__';
    (out[key] ??= []).push(issue.message);
  }
  return out;
}
