/**
 * `cached(fn, options)`: the typed callable and its helpers (`invalidate`, `refresh`, `keyFor`,
 * `callWith`, `stats`, `original`).
 * @module
 */
import { defaultCache, staleOption, type InvalidateOptions } from './cache.js';
import { cachedOptionsSchema, type AnyFunction, type CachedOptions, type ResultOf } from './config/cached-options.js';
import { CALL_OPTION_NAMES, type CallOptions } from './config/call-options.js';
import { configError, parseOrThrow } from './config/parse.js';
import { PLAIN_CALL, REFRESH_CALL, resolveCallOptions, resolveFunction, type ResolvedCall } from './config/resolve.js';
import { execute, executeMany, invalidate, type FunctionContext } from './engine.js';
import { CacheKeyError } from './errors.js';
import { FunctionStamps, generationKey } from './invalidation.js';
import { claimKeyHead } from './key-owners.js';
import { encodeArgs, joinKey, keyHead } from './keys.js';
import { createStats, type CacheStats } from './stats.js';
import { decodeEntry, HeldEntry } from './entry.js';
import { CallRecord, calls, observeCall, type CallMeta } from './observe.js';
import type { Migrate, SchemaOutput, StandardSchema } from './schema.js';

/**
 * The argument lists a cached function accepts: the wrapped function's own parameters, optionally
 * followed by {@link CallOptions}; when trailing parameters are optional, the options may also come
 * right after the required ones (`f(1, { bypassCache: true })` for `(id: number, region?: string)`).
 *
 * When the function's own last parameter declares a call-option name (`init?: { signal?: AbortSignal }`,
 * `opts: { timeout: number }`), a direct call cannot pass it: an object with only such keys is taken
 * as call options at run time. So the direct call takes the parameters before it (when it is optional),
 * or nothing (when it is required), and the whole list goes through
 * {@link CachedFunction.callWith | callWith(options, ...args)}.
 */
export type CallArgs<P extends unknown[]> = [OwnOptionNames<P>] extends [never]
  ? P | [...P, CallOptions] | EarlyOptions<P>
  : P extends [...unknown[], unknown]
    ? [callWith: `the last parameter declares the call option '${OwnOptionNames<P>}': call f.callWith(options, ...args)`]
    : CallArgs<WithoutLast<P>>;

/**
 * The call-option names that the last parameter's type declares (`'signal'` for `init?: RequestInit`);
 * `never` for most functions. Only plain object types count: not `any`, functions or arrays.
 */
export type OwnOptionNames<P extends unknown[]> = number extends P['length']
  ? never // a rest parameter: options only at the very end, after every argument
  : Required<P> extends [...unknown[], infer Last]
    ? 0 extends 1 & Last
      ? never // any
      : Last extends AnyFunction | readonly unknown[]
        ? never
        : Last extends object
          ? Extract<keyof Last, keyof CallOptions>
          : never
    : never;

/** `P` without its last element: `[id: number]` for `[id: number, init?: RequestInit]`. Part of {@link CallArgs}. */
export type WithoutLast<P extends unknown[], Head extends unknown[] = []> = number extends P['length']
  ? P // not reached (a rest parameter declares no option names), but keeps the recursion finite
  : P extends [unknown] | [unknown?]
    ? Head
    : P extends [infer First, ...infer Rest]
      ? WithoutLast<Rest, [...Head, First]>
      : P extends [(infer First)?, ...infer Rest]
        ? WithoutLast<Rest, [...Head, First?]>
        : never;

/**
 * The argument lists with {@link CallOptions} placed where the optional parameters may stop:
 * `[id, CallOptions]` for `(id: number, region?: string)`. Part of {@link CallArgs}.
 */
export type EarlyOptions<P extends unknown[], Head extends unknown[] = []> = number extends P['length']
  ? never // a rest parameter: options only at the very end
  : P extends []
    ? never
    : P extends [infer First, ...infer Rest]
      ? EarlyOptions<Rest, [...Head, First]>
      : P extends [(infer First)?, ...infer Rest]
        ? [...Head, CallOptions] | EarlyOptions<Rest, [...Head, First?]>
        : never;

/**
 * A cached function: call it like the original (plus optional {@link CallOptions} last); it
 * resolves to what the original resolves to.
 *
 * `this` is passed on to the original (`obj.method = cached(fn)`: `obj.method()` runs `fn` with
 * `this === obj`; an unbound call gives `undefined`), but it is not part of the key: callers with
 * different `this` share one entry and one origin run.
 */
export interface CachedFunction<F extends AnyFunction, R = ResultOf<F>> {
  (this: ThisParameterType<F>, ...args: CallArgs<Parameters<F>>): Promise<R>;
  /**
   * Call with explicit options, never inspecting the arguments: use it when the function's own last
   * parameter could look like call options (a plain object with keys such as `ttl`, `signal` or
   * `timeout`). A direct call `f(url, { signal })` gives that object to the cache as call options,
   * never to the function; the types refuse direct calls that pass such a parameter (see {@link CallArgs}).
   *
   * @example
   * ```ts
   * const getPage = cached(async (url: string, init?: { signal?: AbortSignal }) => (await fetch(url, init)).text(), { name: 'getPage' });
   * const signal = AbortSignal.timeout(1000);
   * await getPage('https://example.com', { signal });          // call options: stops waiting after 1 s; fetch gets no init
   * await getPage.callWith({}, 'https://example.com', { signal }); // fetch gets { signal }
   * ```
   */
  callWith(options: CallOptions, ...args: Parameters<F>): Promise<R>;
  /**
   * Call exactly as `f(...args)` does (same arguments, same call options, same counters), and
   * resolve to the value with how it was answered: `status` (`'hit'`, `'stale'`, `'miss'`,
   * `'coalesced'`, `'bypass'`, `'refresh'`), the `tier` it came from (`'l1'`, `'store'`,
   * `'origin'`), and its `age` and remaining `ttl` in ms when known. Rejects as the plain call would.
   * {@link cacheStatus} turns the result into an HTTP `Cache-Status` header.
   * @example
   * ```ts
   * const { value, status, ttl } = await getUser.withMeta(42);        // status 'hit', ttl 299000
   * res.setHeader('Cache-Status', cacheStatus(await getUser.withMeta(42, { ttl: '10m' })));
   * ```
   */
  withMeta(...args: CallArgs<Parameters<F>>): Promise<CallMeta<R>>;
  /**
   * Remove the entry for these arguments. Resolves `true` when an entry was removed.
   * @throws {CacheStoreError} when the store cannot be reached (unlike calls, this does not fail open:
   *   you asked for the entry to be gone and it may not be).
   */
  invalidate(...args: Parameters<F>): Promise<boolean>;
  /**
   * Call once per argument list (`[[1], [2], [3]]`) and resolve to the results in the same order,
   * reading every entry in one round trip (Redis `MGET`). Each item is answered exactly as a single
   * call with `options` would be (fresh and stale windows, call options, stats per item). Only the
   * misses reach the origin: with the `batch` option in one call, otherwise once per miss,
   * concurrently. Each miss is single-flighted with concurrent calls of the same key, and repeated
   * argument lists are read and run once. An empty list resolves to `[]` without touching the store.
   *
   * Rejects, like `Promise.all`, with the first item's error (an origin error, a `CacheBatchError`,
   * a hard timeout); the other items still settle and their results are still cached.
   * @example
   * ```ts
   * const [alice, bob] = await getUser.many([[1], [2]]);
   * await getUser.many([[1], [2]], { ttl: '10m' }); // call options apply to every item
   * ```
   * @throws {CacheKeyError} (rejects, before any read) when an item's arguments cannot be encoded.
   * @throws {CacheConfigError} (rejects) when `argsList` is not an array of arrays, or an option is invalid.
   */
  many(argsList: ReadonlyArray<Parameters<F>>, options?: CallOptions): Promise<R[]>;
  /**
   * Invalidate every entry of this function (every argument list), in every process: O(1), one
   * generation record changes. This process stops serving them when it resolves, other processes
   * within the cache's `clearPollInterval` (1 s by default). Runs in flight for them are abandoned.
   * `{ stale: true }` makes them stale instead of gone (see {@link Cache.invalidateTags}). Functions
   * that share this one's keys (same `sharedContext`, or same `name` on purpose) are cleared with it.
   * @example
   * ```ts
   * await getUser.clear();
   * ```
   * @throws {CacheStoreError} (rejects) when the store cannot be reached.
   */
  clear(options?: InvalidateOptions): Promise<void>;
  /** Run the origin, store its result (awaiting the write) and return it. Counted in `stats.refreshes`. */
  refresh(...args: Parameters<F>): Promise<R>;
  /**
   * The exact store key for these arguments, namespace included (inspect it with `redis-cli GET`).
   * @throws {CacheKeyError} when an argument cannot be encoded (pass a `keyBuilder`).
   */
  keyFor(...args: Parameters<F>): string;
  /** Live counters since the function was created. */
  readonly stats: Readonly<CacheStats>;
  /** The wrapped function, unchanged. */
  readonly original: F;
}

/**
 * Wrap `fn` with a cache.
 *
 * @example
 * ```ts
 * const cache = createCache({ store: { type: 'redis', url: 'redis://localhost:6379' }, namespace: 'app' });
 * const getUser = cached(async (id: number) => db.users.find(id), { cache, name: 'getUser', ttl: '5m' });
 * await getUser(42);                          // miss: runs the query, stores the row
 * await getUser(42);                          // hit
 * await getUser(42, { forceRefresh: true });  // runs the query again and stores the fresh row
 * ```
 * @throws {CacheConfigError} when an option is invalid; the message names the field. Also (field
 *   `name`) when `fn` has no `name`, `sharedContext` or `key` option and another function with the
 *   same name already uses the same keys on this cache: they would return each other's data.
 * @remarks
 * `F` is inferred from `fn` alone (`NoInfer`), so option callbacks (`keyBuilder`, `ttl`, `skipCache`)
 * are typed from it. One TypeScript limit: if `fn` has an unannotated parameter with a default
 * (`(id: number, full = false) => …`) and you pass an already-typed callback (`ttl: myTtlFn`),
 * annotate that parameter (`full: boolean = false`) so `F` can be inferred.
 */
export function cached<F extends AnyFunction, S extends StandardSchema | undefined = undefined>(fn: F, options: CachedOptions<NoInfer<F>, S> = {}): CachedFunction<F, ResultWith<F, S>> {
  if (typeof fn !== 'function') throw configError('fn', `expected a function, received ${fn === null ? 'null' : typeof fn}`);
  const opts = parseOrThrow(cachedOptionsSchema, options) as CachedOptions<F>;
  // The name identifies the function in keys, logs and errors; with a sharedContext or a fixed key
  // those already identify it.
  const name = opts.name || fn.name || opts.sharedContext || opts.key;
  if (!name) throw configError('name', 'required when the function has no name (it identifies the function in keys); or give sharedContext or key');
  const cache = opts.cache ?? defaultCache();
  const namespace = opts.namespace ?? cache.namespace;
  const head = keyHead({
    namespace,
    keyPrefix: opts.keyPrefix,
    identity: opts.key ?? opts.sharedContext ?? name,
    version: opts.version,
  });
  // Entries are stamped with the namespace's generation (cache.clear()) and the function's (f.clear()).
  const ownGeneration = generationKey(head);
  const generations = namespace === undefined ? [ownGeneration] : [generationKey(namespace), ownGeneration];
  const tags = opts.tags as readonly string[] | ((...args: unknown[]) => readonly string[]) | undefined;
  const fixedTags = Array.isArray(tags) ? Object.freeze([...tags]) : undefined;
  const ctx: FunctionContext = {
    ...resolveFunction(opts),
    origin: fn as unknown as (...args: unknown[]) => unknown,
    name,
    cache,
    store: cache.store,
    ttlFn: typeof opts.ttl === 'function' ? (opts.ttl as FunctionContext['ttlFn']) : undefined,
    skipCache: opts.skipCache as FunctionContext['skipCache'],
    batch: opts.batch as FunctionContext['batch'],
    tagsOf: tags === undefined ? undefined : fixedTags !== undefined ? () => fixedTags : (args) => (tags as (...args: unknown[]) => unknown)(...args),
    stamps: new FunctionStamps(cache.generations, generations),
    // Functions under another namespace than the cache's are outside the tier's watch: no tier for them.
    tier: cache.tierCovers(head) ? cache.tier : undefined,
    stats: createStats(),
    schema: opts.schema,
    migrate: opts.migrate as Migrate | undefined,
  };
  // Only a name taken from the function itself can collide by accident (two `load`s); a chosen
  // name, sharedContext or key shares entries on purpose.
  claimKeyHead(cache, head, fn, Boolean(opts.name || opts.sharedContext || opts.key));
  const keyOf = makeKeyOf(opts, head);
  const declared = fn.length;

  const settle = (record: CallRecord): void => record.settle(cache.clock.now(), (raw) => (raw instanceof HeldEntry ? raw.open(true) : decodeEntry(cache.serializer, raw, true)));

  // `record` is given by withMeta; a call is recorded otherwise only while `cachette:call` has subscribers.
  const run = (args: unknown[], call: ResolvedCall | undefined, self: unknown, record?: CallRecord): Promise<unknown> => {
    let key: string;
    try {
      key = keyOf(args);
    } catch (error) {
      return Promise.reject(error);
    }
    const traced = calls.hasSubscribers;
    if (!traced && record === undefined) return execute(ctx, key, args, call, self);
    const noted = record ?? new CallRecord(name);
    const observed: ResolvedCall = { ...(call ?? PLAIN_CALL), record: noted };
    return observeCall(noted, key, traced, () => execute(ctx, key, args, observed, self), settle);
  };

  /**
   * `many()` while `cachette:call` has subscribers: every item is traced as the single call it stands
   * for (its own record and events), while the items are still read and run together.
   */
  const tracedMany = (keys: string[], list: unknown[][], call: ResolvedCall | undefined, self: unknown): Promise<unknown[]> => {
    const records = keys.map(() => new CallRecord(name));
    const answers: Array<(answer: Promise<unknown>) => void> = [];
    const items = records.map((record, i) =>
      observeCall(record, keys[i] as string, true, () => new Promise<unknown>((resolve) => answers.push(resolve)), settle),
    );
    // The items' own promises only carry the events: the caller gets the batch's.
    for (const item of items) item.catch(noop);
    let answered = false;
    const all = executeMany(
      ctx,
      keys,
      list,
      call,
      self,
      records.map((record) => ({ ...(call ?? PLAIN_CALL), record })),
      // Each item settles as it did (one may reject while the others have values).
      (results) => {
        answered = true;
        results.forEach((result, i) => answers[i]?.(Promise.resolve(result)));
      },
    );
    // Refused before any item was answered (an aborted signal): every item ends with that error.
    all.catch((error: unknown) => {
      if (!answered) for (const answer of answers) answer(Promise.reject(error));
    });
    return all;
  };

  const withOptions = (options: CallOptions, args: unknown[], self: unknown, record?: CallRecord): Promise<unknown> => {
    let call: ResolvedCall;
    try {
      call = resolveCallOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    return run(args, call, self, record);
  };

  // `this` is forwarded to the origin (`obj.method = cached(fn)`); it is not part of the key.
  const callable = function cachedCall(this: unknown, ...args: unknown[]): Promise<unknown> {
    const last = args.length - 1;
    if (last >= 0 && isCallOptions(args[last], last, declared)) {
      const options = args.pop() as CallOptions;
      return withOptions(options, args, this);
    }
    return run(args, undefined, this);
  };
  // The helpers forward their `this` too (`f.refresh.call(obj, 1)`), except the cached function
  // itself, which is `this` in the usual `f.refresh(1)` and means nothing to the origin.
  const helperThis = (self: unknown): unknown => (self === callable ? undefined : self);

  Object.defineProperties(callable, {
    name: { value: name },
    callWith: {
      value: function callWith(this: unknown, options: CallOptions, ...args: unknown[]) {
        return withOptions(options, args, helperThis(this));
      },
    },
    withMeta: {
      value: function withMeta(this: unknown, ...args: unknown[]): Promise<CallMeta> {
        const record = new CallRecord(name);
        const last = args.length - 1;
        const self = helperThis(this);
        const answer = last >= 0 && isCallOptions(args[last], last, declared) ? withOptions(args.pop() as CallOptions, args, self, record) : run(args, undefined, self, record);
        return answer.then((value) => record.meta(value));
      },
    },
    invalidate: {
      value: (...args: unknown[]): Promise<boolean> => {
        try {
          return invalidate(ctx, keyOf(args));
        } catch (error) {
          return Promise.reject(error);
        }
      },
    },
    refresh: {
      value: function refresh(this: unknown, ...args: unknown[]) {
        return run(args, REFRESH_CALL, helperThis(this));
      },
    },
    many: {
      value: function many(this: unknown, argsList: unknown, options?: CallOptions): Promise<unknown[]> {
        try {
          if (!Array.isArray(argsList)) throw configError('argsList', `expected an array of argument lists, received ${argsList === null ? 'null' : typeof argsList}`);
          const call = options === undefined ? undefined : resolveCallOptions(options);
          if (argsList.length === 0) return Promise.resolve([]);
          const list: unknown[][] = [];
          const keys: string[] = [];
          for (let i = 0; i < argsList.length; i++) {
            const args: unknown = argsList[i];
            if (!Array.isArray(args)) throw configError(`argsList.${i}`, `expected an argument list (an array), received ${args === null ? 'null' : typeof args}`);
            // A copy: the origin and the batch get lists the caller cannot change under them.
            list.push([...(args as unknown[])]);
            keys.push(keyOf(list[i] as unknown[]));
          }
          if (!calls.hasSubscribers) return executeMany(ctx, keys, list, call, helperThis(this));
          return tracedMany(keys, list, call, helperThis(this));
        } catch (error) {
          return Promise.reject(error);
        }
      },
    },
    clear: {
      value: async (options: InvalidateOptions = {}): Promise<void> => {
        const stale = staleOption(options);
        try {
          await cache.clearGeneration(ownGeneration, stale, name);
        } catch (error) {
          ctx.stats.errors++;
          throw error;
        }
      },
    },
    keyFor: { value: (...args: unknown[]) => keyOf(args) },
    stats: { value: ctx.stats, enumerable: true },
    original: { value: fn },
  });
  cache.adopt(callable, ctx.stats);
  return callable as unknown as CachedFunction<F, ResultWith<F, S>>;
}

/** What a cached function resolves to: its `schema`'s output type when it has one, else the wrapped function's result. */
export type ResultWith<F extends AnyFunction, S extends StandardSchema | undefined> = [S] extends [StandardSchema] ? SchemaOutput<S> : ResultOf<F>;

/** Build the args → key function once, from the function's fixed key head. */
function makeKeyOf(opts: CachedOptions<AnyFunction>, head: string): (args: unknown[]) => string {
  if (opts.key !== undefined) {
    const fixed = joinKey(head, undefined);
    return () => fixed;
  }
  const builder = opts.keyBuilder as ((...args: unknown[]) => unknown) | undefined;
  if (builder !== undefined) {
    return (args) => {
      const built = builder(...args);
      if (typeof built !== 'string') {
        // A call-time failure of this call's key (like an argument with no encoding), not of the configuration.
        throw new CacheKeyError(`cachette: keyBuilder must return a string, returned ${built === null ? 'null' : typeof built}`);
      }
      return joinKey(head, built);
    };
  }
  return (args) => joinKey(head, encodeArgs(args));
}

/**
 * The trailing-argument rule: is the last argument call options or an argument of the function?
 *
 * It is call options when it is a plain object (prototype `Object.prototype` or `null`) and either
 * - every own key is a call-option name (`f(1, { bypassCache: true })`), or
 * - it comes after every declared parameter (`fn.length`) and is empty or has at least one
 *   call-option name: then a misspelled option next to a real one (`{ ttl: '1m', bypasCache: true }`)
 *   is rejected with a {@link CacheConfigError} instead of silently becoming part of the key.
 *
 * So `f(1, {})` still passes `{}` to a function whose second parameter takes an object. Use
 * {@link CachedFunction.callWith} when a function's own last parameter could look like options.
 */
export function isCallOptions(value: unknown, position: number, declaredParameters: number): value is CallOptions {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const keys = Object.keys(value);
  const beyondParameters = position >= declaredParameters;
  if (keys.length === 0) return beyondParameters;
  let known = 0;
  for (const key of keys) if (CALL_OPTION_NAMES.has(key)) known++;
  return known === keys.length || (beyondParameters && known > 0);
}

function noop(): void {}
