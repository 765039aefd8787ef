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
