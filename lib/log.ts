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
export type FailureKind = 'read' | 'write' | 'delete' | 'decode' | 'encode' | 'ttl' | 'skipCache' | 'connection' | 'breaker' | 'refresh' | 'origin' | 'lock' | 'clock' | 'recovery' | 'closed' | 'tags' | 'l1' | 'schema';

/** Structured fields of a failure report. */
export interface FailureFields {
  /** The kind of failure; the default logger prints the first of each kind only. */
  readonly kind: FailureKind;
  /** The cached function's name, when a call was involved. */
  readonly fn?: string | undefined;
  /** The store's name. */
  readonly store?: string | undefined;
  /** The error (its message never contains values or arguments); `undefined` for `recovery` and `closed`. */
  readonly err: unknown;
  /** `recovery` only: how long the store was down, in ms. */
  readonly downMs?: number;
  /** `recovery` only: operations that skipped the store meanwhile (counted in the functions' `stats.skipped`). */
  readonly skipped?: number;
}

/** Kinds that mean the store is down; a `recovery` report ends the outage. */
const OUTAGE_KINDS = new Set<unknown>(['connection', 'breaker']);
/** Store operation failures: logged once per kind between recoveries, not at all during a known outage. */
const STORE_KINDS = new Set<unknown>(['read', 'write', 'delete', 'lock']);

/**
 * The default logger, quiet by design: one line per outage and one per recovery, the first failure
 * of each other kind once, everything else only counted in stats, so an outage cannot flood the output.
 *
 * - `connection`, `breaker`: the first of an outage is written (`… (redis is down: …)`); the rest of
 *   that outage is silent, `read`/`write`/`delete`/`lock` failures included.
 * - `recovery`: written each time (`cachette: redis is back after N ms; K operations skipped it
 *   meanwhile (counted in stats.skipped)`); the next outage, and the next failure of each store
 *   kind, are written again.
 * - `read`, `write`, `delete`, `lock` outside an outage (a refused write, a timeout): the first of
 *   each kind, again after each recovery.
 * - `closed` (the cache was used after `close()`): once.
 * - `encode` (a result the serializer cannot store): the first of each function.
 * - Every other kind (`decode`, `ttl`, `schema` …): the first of each kind for this logger.
 *
 * It never throws: the sink's errors are swallowed.
 */
export function createQuietLogger(sink: (message: string) => void = (m) => console.warn(m)): Logger {
  const seen = new Set<unknown>();
  let down = false;
  const write = (line: string): void => {
    try {
      sink(line);
    } catch {
      // logging must never fail a cache operation
    }
  };
  const quiet = (fields: Record<string, unknown>, message: string): void => {
    const kind = fields.kind ?? message;
    const err = fields.err instanceof Error ? `: ${fields.err.name}: ${fields.err.message}` : '';
    const store = typeof fields.store === 'string' ? fields.store : 'the store';
    if (kind === 'recovery') {
      down = false;
      for (const storeKind of [...OUTAGE_KINDS, ...STORE_KINDS]) seen.delete(storeKind);
      write(message);
      return;
    }
    if (kind === 'closed') {
      if (!seen.has(kind)) write(message);
      seen.add(kind);
      return;
    }
    if (OUTAGE_KINDS.has(kind)) {
      if (down) return;
      down = true;
      write(`${message}${err} (${store} is down: further failures are counted in stats.errors and stats.skipped, not logged, until it is back)`);
      return;
    }
    // A result that cannot be stored belongs to one function: each function's first one is written.
    const fn = kind === 'encode' && typeof fields.fn === 'string' ? fields.fn : undefined;
    const key = fn === undefined ? kind : `encode:${fn}`;
    if (seen.has(key) || (down && STORE_KINDS.has(kind))) return;
    seen.add(key);
    const until = STORE_KINDS.has(kind) ? `until ${store} has an outage and recovers` : 'for this cache';
    const which = fn === undefined ? `${String(kind)} failure` : `encode failure of ${fn}`;
    // Entries failing a schema are not errors: they have a counter of their own.
    const counter = kind === 'schema' ? 'stats.invalid' : 'stats.errors';
    write(`${message}${err} (only the first ${which} is logged ${until}; calls count theirs in ${counter})`);
  };
  return { warn: quiet, error: quiet };
}
