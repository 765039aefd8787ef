/**
 * Operation deadlines without a timer or an `AbortSignal` per operation.
 *
 * One coarse interval timer (a quarter of the timeout) runs only while operations are pending and
 * advances a tick counter. Each operation records the tick it started at in a FIFO; replies on one
 * connection come back in order, so only the head of the queue needs checking. An operation still
 * pending after the timeout rejects with the error from `makeError` (between 1× and 1.25× the
 * timeout); its late reply is then ignored, and a late failure is swallowed, never unhandled.
 *
 * Why: node-redis' own per-command timeout creates an `AbortSignal.timeout()` per command, which
 * costs about 3× throughput at 64 commands in flight.
 * @module
 */

/** Told how each watched operation ended (a circuit breaker counts failures this way). */
export interface Outcomes {
  /** The operation answered in time. */
  succeeded(): void;
  /** The operation failed (with the error after `mapError`) or timed out (with the timeout error). */
  failed(error: unknown): void;
}

interface Pending {
  readonly tick: number;
  readonly reject: (error: Error) => void;
  readonly outcomes: Outcomes | undefined;
  done: boolean;
}

/** Bounds how long watched promises may stay pending. */
export class Deadlines {
  readonly #queue: Pending[] = [];
  #head = 0;
  #tick = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #ticksToExpire: number;
  readonly #period: number;

  constructor(
    readonly timeoutMs: number,
    private readonly makeError: () => Error,
    /** Told of every outcome; a late answer after a timeout is not reported again. */
    private readonly outcomes?: Outcomes,
  ) {
    this.#period = Math.max(1, Math.floor(timeoutMs / 4));
    this.#ticksToExpire = Math.ceil(timeoutMs / this.#period);
  }

  /**
   * A promise that settles like `operation` (its value passed through `map`, its error through
   * `mapError`), or rejects once the timeout has passed. Mapping here saves a promise per operation.
   * `outcomes` (one Redis Cluster node's breaker) replaces the constructor's for this operation.
   */
  watch<T, R = T>(operation: Promise<T>, map?: (value: T) => R, mapError?: (error: unknown) => unknown, outcomes: Outcomes | undefined = this.outcomes): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const pending: Pending = { tick: this.#tick, reject, outcomes, done: false };
      this.#queue.push(pending);
      if (this.#timer === undefined) this.#startTimer();
      operation.then(
        (value) => {
          if (pending.done) return; // timed out already: the late reply is ignored
          pending.done = true;
          outcomes?.succeeded();
          try {
            resolve(map === undefined ? (value as unknown as R) : map(value));
          } catch (error) {
            reject(error);
          }
          this.#drain();
        },
        (error: unknown) => {
          if (pending.done) return;
          pending.done = true;
          const failure = mapError === undefined ? error : mapError(error);
          outcomes?.failed(failure);
          reject(failure);
          this.#drain();
        },
      );
    });
  }

  /** Number of operations still pending. */
  get pending(): number {
    let count = 0;
    for (let i = this.#head; i < this.#queue.length; i++) if (!this.#queue[i]!.done) count++;
    return count;
  }

  /** Reject every operation still pending with `error` now, and stop the timer. */
  expireAll(error: Error): void {
    const queue = this.#queue;
    for (let i = this.#head; i < queue.length; i++) {
      const pending = queue[i]!;
      if (pending.done) continue;
      pending.done = true;
      pending.reject(error);
    }
    queue.length = 0;
    this.#head = 0;
    this.stop();
  }

  /** Stop the timer; pending operations are left to settle on their own. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #startTimer(): void {
    this.#timer = setInterval(() => this.#onTick(), this.#period);
    // Never keep a process alive just to time out cache operations.
    this.#timer.unref?.();
  }

  #onTick(): void {
    this.#tick++;
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const pending = queue[this.#head]!;
      if (!pending.done) {
        if (this.#tick - pending.tick <= this.#ticksToExpire) break;
        pending.done = true;
        const timeout = this.makeError();
        pending.outcomes?.failed(timeout);
        pending.reject(timeout);
      }
      this.#head++;
    }
    this.#compact();
    if (this.#head >= queue.length) this.stop();
  }

  #drain(): void {
    const queue = this.#queue;
    while (this.#head < queue.length && queue[this.#head]!.done) this.#head++;
    this.#compact();
  }

  #compact(): void {
    const queue = this.#queue;
    if (this.#head === queue.length) {
      queue.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > queue.length) {
      queue.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
