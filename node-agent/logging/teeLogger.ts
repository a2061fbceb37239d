import pino, { type DestinationStream, type Level, type LevelWithSilent, type Logger } from 'pino';

/**
 * A logger that writes every record both where `base` writes (its destination, at its level) and
 * into `extra` (at `extraLevel`), whatever `base`'s level is.
 *
 * Why a new root logger instead of a child of `base`: a pino child always writes to its parent's
 * destination at its parent's level, so records below a `silent` or `warn` test logger would never
 * reach the syslog servers. The new root logger uses `pino.multistream` over `base`'s own
 * destination (`pino.symbols.streamSym`) and `extra`; `base`'s bindings, pid and hostname included,
 * are carried over (the new root's own `base` fields are disabled, so nothing is written twice). `base`'s formatting options
 * (custom serializers, redaction, formatters, mixins) are not carried over — the node's loggers use
 * pino's defaults; standard serializers (`err`) apply as before.
 */
export function teeLogger(base: Logger, extra: DestinationStream, extraLevel: Level = 'info'): Logger {
  const baseStream = pinoField(base, pino.symbols.streamSym);
  const baseLevel = base.level as LevelWithSilent;
  const values = pino.levels.values;
  const baseValue = baseLevel === 'silent' ? Infinity : (values[baseLevel] ?? Infinity);
  const extraValue = values[extraLevel]!;
  const lowest = Math.min(baseValue, extraValue);
  const level = (pino.levels.labels[lowest] ?? extraLevel) as Level;
  const streams: pino.StreamEntry[] = [{ level: extraLevel, stream: extra }];
  if (isDestination(baseStream) && baseValue !== Infinity) streams.push({ level: baseLevel as Level, stream: baseStream });
  const root = pino({ level, base: null }, pino.multistream(streams));
  return root.child(allBindings(base));
}

/** `base`'s bindings including pid and hostname (which `Logger.bindings()` leaves out). */
function allBindings(base: Logger): Record<string, unknown> {
  const chindings = pinoField(base, pino.symbols.chindingsSym);
  if (typeof chindings === 'string' && chindings.length > 1) {
    try {
      return JSON.parse(`{${chindings.slice(1)}}`) as Record<string, unknown>;
    } catch {
      // fall through
    }
  }
  return base.bindings();
}

/** What a logger keeps under one of pino's symbols (not part of its typed interface). */
function pinoField(logger: Logger, sym: symbol): unknown {
  return Reflect.get(logger, sym) as unknown;
}

function isDestination(v: unknown): v is DestinationStream {
  return typeof v === 'object' && v !== null && 'write' in v && typeof v.write === 'function';
}
