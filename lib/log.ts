/**
 * Failure reporting. cachette logs only cache-layer failures (store, serialization, user hooks),
 * with a structured object first (pino style) and never a cached value or a call argument.
 * @module
 */

/** A pino-compatible logger: anything with `warn` and `error` that takes `(object, message)`. */
export interface Logger {
  /** Receives each cache-layer failure: structured fields first, then the message. */
  warn(fields: Record<string, unknown>, message: string): void;
  /** Not called by cachette today; required so any pino-style logger fits now and later. */
  error(fields: Record<string, unknown>, message: string): void;
}

/** What kind of cache-layer failure happened. */
export type FailureKind = 'read' | 'write' | 'delete' | 'decode' | 'encode' | 'ttl' | 'skipCache' | 'connection' | 'breaker' | 'refresh' | 'origin' | 'lock' | 'clock';

/** Structured fields of a failure report. */
export interface FailureFields {
  /** The kind of failure; the default logger prints the first of each kind only. */
  readonly kind: FailureKind;
  /** The cached function's name, when a call was involved. */
  readonly fn?: string | undefined;
  /** The store's name. */
  readonly store?: string | undefined;
  /** The error (its message never contains values or arguments). */
  readonly err: unknown;
}

/**
 * The default logger: the first failure of each kind is written with `console.warn`, the rest are
 * only counted in stats, so an outage cannot flood the output.
 */
export function createQuietLogger(sink: (message: string) => void = (m) => console.warn(m)): Logger {
  const seen = new Set<unknown>();
  const once = (fields: Record<string, unknown>, message: string): void => {
    const kind = fields.kind ?? message;
    if (seen.has(kind)) return;
    seen.add(kind);
    const err = fields.err instanceof Error ? `: ${fields.err.name}: ${fields.err.message}` : '';
    sink(`${message}${err} (only the first ${String(kind)} failure is logged; calls count theirs in stats.errors)`);
  };
  return { warn: once, error: once };
}
