/**
 * Errors thrown by cachette. Every one extends {@link CacheError}, so `instanceof CacheError` (or
 * {@link isCacheError} across realms) catches all of them.
 *
 * @remarks
 * Errors thrown by the wrapped function (the origin) are deliberately *not* wrapped: they reach the
 * caller unchanged. Messages never contain cached values, call arguments or passwords.
 * @module
 */

/** Base class of every error cachette creates. `code` is stable and safe to switch on. */
export class CacheError extends Error {
  /** Always `'CacheError'`: stable across realms (what {@link isCacheError} checks). */
  override name = 'CacheError';
  /** A stable machine-readable code, e.g. `CACHE_ERR_CONFIG`. */
  readonly code: string = 'CACHE_ERR';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** An issue found while validating options, in the shape zod reports it (path + message). */
export interface ConfigIssue {
  /** Dotted path of the offending field, e.g. `store.url`. */
  readonly path: string;
  /** The rule that failed, in words. */
  readonly message: string;
}

/**
 * Thrown by {@link createCache}, {@link cached} and by a call given invalid call options, when an
 * option is invalid. `field` is the dotted path of the first offending option.
 *
 * @example
 * ```ts
 * try { cached(fn, { ttl: -5 }) } catch (e) { if (e instanceof CacheConfigError) console.log(e.field) } // 'ttl'
 * ```
 */
export class CacheConfigError extends CacheError {
  /** Always `'CacheConfigError'`: stable across realms (what {@link isCacheError} checks). */
  override name = 'CacheConfigError';
  override readonly code = 'CACHE_ERR_CONFIG';

  constructor(
    message: string,
    /** Dotted path of the first invalid option (`''` when the whole value is wrong). */
    readonly field: string,
    /** Every issue found, first one first. */
    readonly issues: readonly ConfigIssue[] = [],
  ) {
    super(message);
  }
}

/**
 * Thrown by a call (or by `keyFor`) when its key cannot be built: an argument cannot be encoded
 * faithfully (functions, symbols, class instances without `toJSON`, circular structures, nesting
 * deeper than `MAX_KEY_DEPTH`; pass a `keyBuilder`), or a `keyBuilder` returned something other than
 * a string.
 */
export class CacheKeyError extends CacheError {
  /** Always `'CacheKeyError'`: stable across realms (what {@link isCacheError} checks). */
  override name = 'CacheKeyError';
  override readonly code = 'CACHE_ERR_KEY';
}

/**
 * A store operation failed (connection lost, timeout, server error). Never thrown to callers of a
 * cached function: it is logged, counted in `stats.errors`, and the origin answers instead.
 */
export class CacheStoreError extends CacheError {
  /** Always `'CacheStoreError'`: stable across realms (what {@link isCacheError} checks). */
  override name = 'CacheStoreError';
  override readonly code: string = 'CACHE_ERR_STORE';

  constructor(
    message: string,
    /** The store's short name, e.g. `'redis'`. */
    readonly store: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A batch read (`Store.getMany`) that failed for some keys only, such as the keys of one dead master
 * of a Redis Cluster. `payloads` holds the answer for every key (`undefined` where the read failed),
 * so the other keys still hit; `cause` is the first failure. Handled inside cachette like every
 * {@link CacheStoreError}: the failed keys are counted and reported, and go to the origin.
 * @experimental
 */
export class CachePartialReadError extends CacheStoreError {
  /** Always `'CachePartialReadError'`: stable across realms (what {@link isCacheError} checks). */
  override name = 'CachePartialReadError';
  /** Always `'CACHE_ERR_PARTIAL_READ'`. */
  override readonly code = 'CACHE_ERR_PARTIAL_READ';

  constructor(
    message: string,
    store: string,
    /** One payload per key asked, in order; `undefined` for a miss and for a key whose read failed. */
    readonly payloads: ReadonlyArray<string | Uint8Array | undefined>,
    /** How many keys' reads failed. */
    readonly failed: number,
    options?: { cause?: unknown },
  ) {
    super(message, store, options);
  }
}

/**
 * A store operation did not answer within the store's operation timeout. Like every
 * {@link CacheStoreError}, it is handled inside cachette (fail-open) and only reaches loggers.
 */
export class CacheTimeoutError extends CacheStoreError {
  /** Always `'CacheTimeoutError'`: stable across realms (what {@link isCacheError} checks). */
  override name = 'CacheTimeoutError';
  override readonly code: string = 'CACHE_ERR_TIMEOUT';
}

/**
 * A store operation was not attempted because the store's circuit breaker is open (the store failed
 * repeatedly and is being given a cool-down). Like every {@link CacheStoreError} it is handled inside
 * cachette: the origin answers, and the call counts it in `stats.skipped`, not `stats.errors`, and does
 * not log it. Only `invalidate()` rejects with it.
 */
export class CacheUnavailableError extends CacheStoreError {
  /** Always `'CacheUnavailableError'`: stable across realms (what {@link isCacheError} checks). */
  override name = 'CacheUnavailableError';
  override readonly code = 'CACHE_ERR_UNAVAILABLE';
}

/**
 * A value could not be serialized, or stored bytes could not be decoded. Handled inside cachette:
 * an undecodable entry is a miss and gets overwritten; an unserializable result is returned but not stored.
 */
export class CacheSerializationError extends CacheError {
  /** Always `'CacheSerializationError'`: stable across realms (what {@link isCacheError} checks). */
  override name = 'CacheSerializationError';
  override readonly code = 'CACHE_ERR_SERIALIZATION';
}

/**
 * The wrapped function did not answer within its hard `timeout`: the call rejects with it (unless a
 * stale value within `staleIfError` is served instead). Unlike the store errors it *is* thrown to
 * callers, so it is not a {@link CacheStoreError}: catching those to ignore cache trouble never
 * swallows an origin timeout. `fn` names the cached function.
 */
export class CacheOriginTimeoutError extends CacheError {
  /** Always `'CacheOriginTimeoutError'`: stable across realms (what {@link isCacheError} checks). */
  override name = 'CacheOriginTimeoutError';
  override readonly code = 'CACHE_ERR_ORIGIN_TIMEOUT';

  constructor(
    /** The cached function's name. */
    readonly fn: string,
    /** The hard timeout that passed, in ms. */
    readonly timeoutMs: number,
  ) {
    super(`cachette: ${fn} did not answer within ${timeoutMs} ms`);
  }
}

/**
 * The function's `batch` origin broke its contract during `f.many()`: it answered something that is
 * not an array, or an array whose length differs from the number of argument lists it was given.
 * Every caller waiting on those keys rejects with it, and nothing from that answer is cached. (A
 * `batch` that throws or rejects reaches them with its own error, like any origin error.) The message
 * gives counts and types only, never the results. `fn` names the cached function.
 */
export class CacheBatchError extends CacheError {
  /** Always `'CacheBatchError'`: stable across realms (what {@link isCacheError} checks). */
  override name = 'CacheBatchError';
  override readonly code = 'CACHE_ERR_BATCH';

  constructor(
    message: string,
    /** The cached function's name. */
    readonly fn: string,
  ) {
    super(message);
  }
}

/**
 * A value did not match the function's `schema`. Thrown (rejected) to the caller only when the
 * origin's own result fails it (nothing is cached); an entry read from the cache that fails it is a
 * miss, counted in `stats.invalid` and reported to the logger with this error, never thrown. The
 * message names the cached function and the paths of the failing fields (`id`, `roles.0`), never a
 * value and never the schema's issue messages (a custom message may quote the value).
 */
export class CacheSchemaError extends CacheError {
  /** Always `'CacheSchemaError'`: stable across realms (what {@link isCacheError} checks). */
  override name = 'CacheSchemaError';
  override readonly code = 'CACHE_ERR_SCHEMA';

  constructor(
    message: string,
    /** The cached function's name. */
    readonly fn: string,
    /** Dotted paths of the failing fields (`''` for the value itself), at most 10. */
    readonly paths: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const ownNames = new Set([
  'CacheBatchError',
  'CacheSchemaError',
  'CacheOriginTimeoutError',
  'CacheError',
  'CacheConfigError',
  'CacheKeyError',
  'CacheStoreError',
  'CachePartialReadError',
  'CacheTimeoutError',
  'CacheUnavailableError',
  'CacheSerializationError',
]);

/**
 * True for any error created by cachette, also across realms (another copy of cachette, a `vm`
 * context, a worker's structured clone): it checks that `error` is an Error of any realm and that its
 * `name` is one of cachette's, not the prototype chain.
 */
export function isCacheError(error: unknown): error is CacheError {
  if (error instanceof CacheError) return true;
  if (typeof error !== 'object' || error === null || Object.prototype.toString.call(error) !== '[object Error]') return false;
  const name: unknown = (error as { name?: unknown }).name;
  return typeof name === 'string' && ownNames.has(name);
}
