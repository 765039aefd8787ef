/**
 * The cache the schema tests run on: a memory store on a fake clock, and a logger that keeps every
 * report (what the schema tests read the `schema` reports from).
 */
import { createCache, MemoryStore, type FailureFields } from '../../lib/index.js';
import { fakeClock } from './fake-clock.js';

/** A logger that keeps what it receives. */
export function recorder() {
  const reports: Array<{ fields: FailureFields; message: string }> = [];
  const keep = (fields: Record<string, unknown>, message: string): void => void reports.push({ fields: fields as unknown as FailureFields, message });
  return { reports, logger: { warn: keep, error: keep } };
}

/** A memory-store cache on a fake clock, with its store and the reports it made. */
export function setup() {
  const clock = fakeClock();
  const store = new MemoryStore({ clock });
  const { reports, logger } = recorder();
  const cache = createCache({ store, clock, logger });
  return { clock, store, cache, reports };
}
