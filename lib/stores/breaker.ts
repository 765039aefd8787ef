/**
 * A circuit breaker for one store: after `threshold` consecutive failures it opens, and operations
 * skip the store (they fail at once with {@link CacheUnavailableError}, so calls go straight to the
 * origin) for a cool-down; then one operation is let through as a probe (half-open). The probe's
 * success closes the breaker, its failure opens it again for another cool-down.
 *
 * Only outages count as failures (the store's `isOutage` decides: for Redis, lost connections and
 * timeouts). A store that answers with a refusal (Redis `OOM`, `READONLY`) is up: that answer resets
 * the count like a success.
 *
 * Why a state machine and not a wrapping store: a wrapper would have to chain a `then` onto every
 * operation to see its outcome, one promise more per hit. The store owning the breaker reports
 * outcomes from handlers it already has, and its hot path reads one field, {@link CircuitBreaker.closed}.
 * @module
 */
import { DEFAULT_BREAKER_COOLDOWN_MS, DEFAULT_BREAKER_THRESHOLD } from '../defaults.js';
import { systemClock, type Clock } from '../clock.js';
import { CacheUnavailableError } from '../errors.js';

/**
 * - `'closed'`: operations go to the store; failures are counted.
 * - `'open'`: operations skip the store until the cool-down has passed.
 * - `'half-open'`: the cool-down has passed and one probe operation went to the store; the others
 *   still skip it until the probe answers.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * Where a store's connection stands:
 * - `'idle'`: not opened yet (a Redis connection opens on first use, or on `cache.connect()`);
 * - `'connecting'`: the first connection is being made;
 * - `'ready'`: operations can be sent (always, for the memory store);
 * - `'reconnecting'`: it was ready once, and is being opened again;
 * - `'closed'`: `cache.close()` was called; calls go straight to the origin.
 */
export type ConnectionState = 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'closed';

/** What `cache.health()` reports about a cache's store and its circuit breaker. */
export interface StoreHealth {
  /** The store's short name, e.g. `'redis'`. */
  readonly store: string;
  /**
   * The breaker's state. Always `'closed'` for a store without a breaker (memory, your own stores
   * unless they report one) and with `breaker: false`. An open breaker reports `'open'` until the
   * first operation after the cool-down, which becomes the probe.
   */
  readonly state: BreakerState;
  /** Store failures (connection errors, timeouts) in a row since the last operation that succeeded. */
  readonly consecutiveFailures: number;
  /** When the breaker last opened, in the cache's clock (ms since the epoch); present while not closed. */
  readonly openedAt?: number;
  /** How many times the breaker has opened (a failed probe opening it again included). */
  readonly opens: number;
  /**
   * Where the connection stands. `state: 'closed'` is about the breaker only: the store is usable
   * when `connection` is `'ready'` too. `cache.health()` always sets it (a store of your own that
   * does not is reported `'ready'`, or `'closed'` after `cache.close()`).
   */
  readonly connection?: ConnectionState;
  /**
   * `true` only when `connection` is `'ready'` and `state` is `'closed'`: the store is in use now. Set
   * by `cache.health()` (a readiness check can read this one field); a store's own `health()` may
   * leave it out.
   */
  readonly ok?: boolean;
}

/** Options of a store's circuit breaker (the Redis store's `breaker` option). */
export interface BreakerOptions {
  /**
   * Consecutive failures that open the breaker; a positive integer. `Infinity` never opens it
   * (failures are still counted in {@link StoreHealth.consecutiveFailures}).
   * @defaultValue 5 ({@link DEFAULT_BREAKER_THRESHOLD})
   */
  threshold?: number;
  /**
   * How long an open breaker skips the store before letting one probe through, in milliseconds.
   * @defaultValue 2000 ({@link DEFAULT_BREAKER_COOLDOWN_MS})
   */
  cooldownMs?: number;
  /** Time source for the cool-down. @defaultValue `Date.now` */
  clock?: Clock;
  /** Which errors are outages (count as failures); any other error shows the store answered. @defaultValue every error */
  isOutage?: (error: unknown) => boolean;
  /** Called each time the breaker opens, with the failure that opened it (what it throws or rejects is ignored). */
  onOpen?: (health: StoreHealth, error: unknown) => void;
  /** Called when a successful probe closes the breaker again (what it throws or rejects is ignored). */
  onClose?: (health: StoreHealth) => void;
  /** Called when the cool-down has passed and a probe is let through (`'half-open'`; what it throws or rejects is ignored). */
  onHalfOpen?: (health: StoreHealth) => void;
}

/**
 * The breaker's state machine. It does no I/O: the store calls {@link CircuitBreaker.admit} before an
 * operation when {@link CircuitBreaker.closed} is false, and reports each outcome with
 * {@link CircuitBreaker.succeeded} or {@link CircuitBreaker.failed}.
 */
export class CircuitBreaker {
  /**
   * `true` while the breaker is closed: the one field an operation reads on the fast path. Changed
   * only by the breaker (a plain field rather than a getter, so the check is a single load).
   */
  closed = true;
  #state: BreakerState = 'closed';
  #failures = 0;
  #opens = 0;
  #openedAt = 0;
  /** When the probe of the current half-open state was let through. */
  #probeAt = 0;
  /** Made once per opening and given to every operation skipped meanwhile. */
  #skipped: CacheUnavailableError | undefined;
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #clock: Clock;
  readonly #isOutage: (error: unknown) => boolean;
  readonly #onOpen: ((health: StoreHealth, error: unknown) => void) | undefined;
  readonly #onClose: ((health: StoreHealth) => void) | undefined;
  readonly #onHalfOpen: ((health: StoreHealth) => void) | undefined;

  constructor(
    /** The store's short name, for errors and {@link StoreHealth.store}. */
    readonly store: string,
    options: BreakerOptions = {},
  ) {
    this.#threshold = options.threshold ?? DEFAULT_BREAKER_THRESHOLD;
    this.#cooldownMs = options.cooldownMs ?? DEFAULT_BREAKER_COOLDOWN_MS;
    this.#clock = options.clock ?? systemClock;
    this.#isOutage = options.isOutage ?? (() => true);
    this.#onOpen = options.onOpen;
    this.#onClose = options.onClose;
    this.#onHalfOpen = options.onHalfOpen;
  }

  /** The current state. */
  get state(): BreakerState {
    return this.#state;
  }

  /**
   * True while operations would be skipped: open, or half-open with its probe out, and the cool-down
   * not over. Unlike {@link admit} it changes nothing.
   */
  get skipping(): boolean {
    if (this.closed) return false;
    const since = this.#state === 'open' ? this.#openedAt : this.#probeAt;
    return this.#clock.now() - since < this.#cooldownMs;
  }

  /**
   * Ask to send an operation while the breaker is not closed: `undefined` lets it through as the
   * probe (the cool-down has passed), otherwise the {@link CacheUnavailableError} to fail it with.
   *
   * @remarks
   * A probe whose outcome is never reported (an operation the store does not report) would leave the
   * breaker half-open for good, so after another cool-down without an answer a new probe is let through.
   */
  admit(): CacheUnavailableError | undefined {
    if (this.closed) return undefined;
    const since = this.#state === 'open' ? this.#openedAt : this.#probeAt;
    const now = this.#clock.now();
    if (now - since < this.#cooldownMs) return this.#skipped;
    const was = this.#state;
    this.#state = 'half-open';
    this.#probeAt = now;
    if (was !== 'half-open') callQuietly(this.#onHalfOpen, this.health());
    return undefined;
  }

  /** An operation succeeded (or the store answered it with a refusal): the store is up. */
  succeeded(): void {
    if (this.closed) {
      if (this.#failures !== 0) this.#failures = 0;
      return;
    }
    // While open, only operations sent before it opened can answer: the probe decides, not they.
    if (this.#state === 'half-open') this.#close();
  }

  /** An operation failed with `error`; only outages count (see {@link BreakerOptions.isOutage}). */
  failed(error: unknown): void {
    if (!this.#isOutage(error)) {
      this.succeeded();
      return;
    }
    this.#failures++;
    if (this.closed ? this.#failures >= this.#threshold : this.#state === 'half-open') this.#open(error);
  }

  /** A snapshot of the state, for `cache.health()`. */
  health(): StoreHealth {
    const health = { store: this.store, state: this.#state, consecutiveFailures: this.#failures, opens: this.#opens };
    return this.closed ? health : { ...health, openedAt: this.#openedAt };
  }

  #open(error: unknown): void {
    this.closed = false;
    this.#state = 'open';
    this.#openedAt = this.#clock.now();
    this.#opens++;
    this.#skipped = new CacheUnavailableError(
      `cachette: ${this.store} skipped: its circuit breaker opened after ${this.#failures} consecutive failures (cool-down ${this.#cooldownMs} ms)`,
      this.store,
      { cause: error },
    );
    // A throwing or rejecting listener must not turn an outcome report into a failed operation.
    callQuietly(this.#onOpen, this.health(), error);
  }

  #close(): void {
    this.closed = true;
    this.#state = 'closed';
    this.#failures = 0;
    this.#skipped = undefined;
    callQuietly(this.#onClose, this.health());
  }
}

/**
 * Call a listener (a logger, a hook) so that nothing it does reaches the caller: a throw is
 * swallowed, and a returned promise (an `async` listener) gets a rejection handler, so it can never
 * become an unhandled rejection.
 * @internal
 */
export function callQuietly<A extends unknown[]>(listener: ((...args: A) => unknown) | undefined, ...args: A): void {
  if (listener === undefined) return;
  try {
    const result = listener(...args);
    if ((typeof result === 'object' && result !== null) || typeof result === 'function') {
      const then = (result as { then?: unknown }).then;
      if (typeof then === 'function') (then as (ok: unknown, fail: () => void) => unknown).call(result, undefined, ignore);
    }
  } catch {
    // ignored on purpose: see above
  }
}

function ignore(): void {}
