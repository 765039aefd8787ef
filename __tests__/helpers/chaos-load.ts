/**
 * A steady load of cached calls for the chaos suite. It keeps exactly `concurrency` calls in flight
 * (each settled call is replaced at once), checks every answer against the value it must have, and
 * tallies the calls by phase:
 * before the fault, during it, after recovery. A call in flight when the fault starts counts as a
 * call during the fault; a call in flight at recovery stays counted in the fault.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';

/** What the chaos origin returns for `id`: a pure function of the argument, so any answer can be checked. */
export function valueFor(id: number): { id: number; v: string } {
  return { id, v: createHash('sha256').update(`chaos:${id}`).digest('hex').slice(0, 16) };
}

export type Phase = 'before' | 'fault' | 'after';

/** Settled calls of one phase. `served` counts fulfilled calls, `wrong` those among them with a wrong value. */
export interface Tally {
  calls: number;
  served: number;
  wrong: number;
  rejected: number;
}

/** A call that did not go right: rejected, or answered with a value other than `valueFor(id)`. */
export interface BadCall {
  readonly id: number;
  readonly phase: Phase;
  readonly outcome: 'wrong' | 'rejected';
  readonly detail: unknown;
}

interface Call {
  readonly id: number;
  phase: Phase;
}

export class Load {
  readonly tallies: Record<Phase, Tally> = { before: tally(), fault: tally(), after: tally() };
  readonly bad: BadCall[] = [];
  readonly #call: (id: number) => Promise<unknown>;
  readonly #nextId: (seq: number) => number;
  readonly #concurrency: number;
  readonly #inFlight = new Set<Call>();
  #phase: Phase = 'before';
  #running = false;
  #seq = 0;
  #idle: (() => void) | undefined;

  /**
   * `call` must take at least one macrotask turn to settle (the chaos origin waits for `setImmediate`,
   * a hit waits for Redis' reply): settled calls are replaced synchronously, so a call that settled
   * within microtasks would starve the event loop.
   */
  constructor(call: (id: number) => Promise<unknown>, nextId: (seq: number) => number, concurrency = 64) {
    this.#call = call;
    this.#nextId = nextId;
    this.#concurrency = concurrency;
  }

  /** Calls started and not settled yet. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  start(): void {
    this.#running = true;
    while (this.#inFlight.size < this.#concurrency) this.#launch();
  }

  /** The fault starts now: calls in flight and later calls count in the `fault` tally. Returns how many were in flight. */
  beginFault(): number {
    this.#phase = 'fault';
    for (const call of this.#inFlight) call.phase = 'fault';
    return this.#inFlight.size;
  }

  /** Redis is back: calls started from now on count in the `after` tally. */
  recover(): void {
    this.#phase = 'after';
  }

  /** Start no more calls, and wait until every call started has settled. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#inFlight.size > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
  }

  /** All phases added up. */
  total(): Tally {
    const sum = tally();
    for (const t of Object.values(this.tallies)) {
      sum.calls += t.calls;
      sum.served += t.served;
      sum.wrong += t.wrong;
      sum.rejected += t.rejected;
    }
    return sum;
  }

  #launch(): void {
    if (!this.#running) return;
    const call: Call = { id: this.#nextId(this.#seq++), phase: this.#phase };
    this.#inFlight.add(call);
    let answer: Promise<unknown>;
    try {
      answer = this.#call(call.id);
    } catch (error) {
      answer = Promise.reject(error);
    }
    answer.then(
      (value) => this.#settle(call, isDeepStrictEqual(value, valueFor(call.id)) ? undefined : 'wrong', value),
      (error: unknown) => this.#settle(call, 'rejected', error),
    );
  }

  #settle(call: Call, outcome: BadCall['outcome'] | undefined, detail: unknown): void {
    this.#inFlight.delete(call);
    const t = this.tallies[call.phase];
    t.calls++;
    if (outcome === 'rejected') t.rejected++;
    else t.served++;
    if (outcome === 'wrong') t.wrong++;
    if (outcome !== undefined) this.bad.push({ id: call.id, phase: call.phase, outcome, detail });
    if (this.#running) this.#launch();
    else if (this.#inFlight.size === 0) this.#idle?.();
  }
}

function tally(): Tally {
  return { calls: 0, served: 0, wrong: 0, rejected: 0 };
}
