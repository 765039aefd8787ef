/**
 * The time source used for entry timestamps and the memory store's TTLs. Injectable so tests move
 * time instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch (or any monotonic origin, as long as it only moves forward). */
  now(): number;
}

/** The wall clock (`Date.now`). */
export const systemClock: Clock = { now: () => Date.now() };

/** Times an entry header can hold: whole milliseconds from 0, at most 16 digits. */
const LATEST = 1e16;

/**
 * `clock`, made safe: a reading that is not a finite time from 0 to 10^16 ms (NaN, negative, a
 * non-number) is replaced by `Date.now()`, and `onInvalid` is told once with what was received.
 * Without it such a reading would be written into entry headers that no reader can parse (every
 * call a silent miss). The system clock is returned as it is.
 */
export function guardedClock(clock: Clock, onInvalid: (received: unknown) => void): Clock {
  if (clock === systemClock) return clock;
  let reported = false;
  return {
    now(): number {
      const time = clock.now();
      if (time >= 0 && time < LATEST) return time; // false for NaN and for non-numbers
      if (!reported) {
        reported = true;
        onInvalid(time);
      }
      return Date.now();
    },
  };
}
