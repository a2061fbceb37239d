import { z } from 'zod';

/** The guide's log levels, lowest first. */
export const SUPPORT_LOG_LEVELS = ['debug', 'info', 'warning', 'error'] as const;
export type SupportLogLevel = (typeof SUPPORT_LOG_LEVELS)[number];

export const supportLogQuerySchema = z.object({
  /** Text anywhere in the module or message (case-insensitive). */
  search: z.string().max(250).optional(),
  /** The lowest level shown (warning = warnings and errors). */
  level: z.enum(SUPPORT_LOG_LEVELS).optional(),
  /** "Management Node" or a conferencing node's name. */
  source: z.string().max(64).optional(),
  /** ISO times, inclusive. */
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(500).default(50),
});
export type SupportLogQuery = z.infer<typeof supportLogQuerySchema>;

export interface SupportLogRow {
  /** Order of arrival (a stable key for the console's table). */
  seq: number;
  /** Milliseconds since the epoch. */
  time: number;
  level: SupportLogLevel;
  /** "Management Node" or the conferencing node's name. */
  source: string;
  module: string;
  message: string;
}

/** The guide's support log time: UTC with milliseconds and an explicit offset, `2019-02-24T23:16:33.019+00:00`. */
export function supportLogTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '+00:00');
}
