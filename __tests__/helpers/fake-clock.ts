/**
 * A clock the test moves by hand, so TTLs are checked without sleeping.
 *
 * It starts well after 0 on purpose: time 0 is a special value in some libraries (see the memory
 * store test that checks a clock reading 0).
 */
import type { Clock } from '../../lib/clock.js';

/** A {@link Clock} whose time only changes when `advance` or `set` is called. */
export interface FakeClock extends Clock {
  /** Move time forward by `ms`. */
  advance(ms: number): void;
  /** Jump to an absolute time (must not go backwards). */
  set(now: number): void;
}

export function fakeClock(start = 1_700_000_000_000): FakeClock {
  let now = start;
  return {
    now: () => now,
    advance(ms) {
      if (ms < 0) throw new Error('fakeClock: time only moves forward');
      now += ms;
    },
    set(next) {
      if (next < now) throw new Error('fakeClock: time only moves forward');
      now = next;
    },
  };
}
