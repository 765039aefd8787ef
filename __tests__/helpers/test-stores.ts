/**
 * Stores for tests of cached() without Redis: one whose writes wait until the test lets them
 * through, one that fails every operation, and one that records what it is asked.
 */
import { MemoryStore } from '../../lib/stores/memory.js';
import type { Store } from '../../lib/stores/store.js';
import { deferred, type Deferred } from './deferred.js';

/** A memory store whose `set` calls on entries wait for `release()` (or fail on `fail()`), in order. */
export class GatedStore implements Store {
  readonly name = 'gated';
  readonly inner = new MemoryStore();
  readonly #gates: Deferred<void>[] = [];

  /** Writes waiting for the test. */
  get waiting(): number {
    return this.#gates.length;
  }

  get(key: string): string | Uint8Array | undefined {
    return this.inner.get(key);
  }

  getAndExpire(key: string, ttlMs: number): string | Uint8Array | undefined {
    return this.inner.getAndExpire(key, ttlMs);
  }

  async set(key: string, value: string | Uint8Array, ttlMs: number | undefined): Promise<void> {
    // Invalidation records (written once per process) are not the writes a test gates.
    if (isRecordKey(key)) return void this.inner.set(key, value, ttlMs);
    const gate = deferred<void>();
    this.#gates.push(gate);
    await gate.promise;
    this.inner.set(key, value, ttlMs);
  }

  delete(key: string): boolean {
    return this.inner.delete(key);
  }

  /** Let the oldest waiting write through. */
  release(): void {
    const gate = this.#gates.shift();
    if (!gate) throw new Error('GatedStore: no write is waiting');
    gate.resolve();
  }

  /** Fail the oldest waiting write. */
  fail(error: Error): void {
    const gate = this.#gates.shift();
    if (!gate) throw new Error('GatedStore: no write is waiting');
    gate.reject(error);
  }
}

/** A store whose every operation fails, asynchronously or (with `sync`) by throwing. */
export function brokenStore(options: { sync?: boolean; message?: string } = {}): Store & { calls: string[] } {
  const calls: string[] = [];
  const fail = (operation: string): never | Promise<never> => {
    calls.push(operation);
    const error = new Error(options.message ?? 'store unreachable');
    if (options.sync) throw error;
    return Promise.reject(error);
  };
  return {
    name: 'broken',
    calls,
    get: () => fail('get'),
    getAndExpire: () => fail('getAndExpire'),
    set: () => fail('set'),
    delete: () => fail('delete'),
  };
}

/** Invalidation records (clear generations `…|gen`, tag records `…tag|…`): not entries. */
export function isRecordKey(key: string): boolean {
  return key.endsWith('|gen') || key.startsWith('tag|') || key.includes(':tag|');
}

/**
 * A memory store that records each operation on an entry as `op key [ttl]`; operations on
 * invalidation records (read once per process, see `invalidation.ts`) go to `records` instead.
 */
export class RecordingStore implements Store {
  readonly name = 'recording';
  readonly inner: MemoryStore;
  readonly #log: string[] = [];
  readonly records: string[] = [];

  /** The operations on entries, in order. */
  get log(): string[] {
    return this.#log;
  }

  constructor(inner = new MemoryStore()) {
    this.inner = inner;
  }

  get(key: string): string | Uint8Array | undefined {
    this.#record(key, `get ${key}`);
    return this.inner.get(key);
  }

  getAndExpire(key: string, ttlMs: number): string | Uint8Array | undefined {
    this.#record(key, `getAndExpire ${key} ${ttlMs}`);
    return this.inner.getAndExpire(key, ttlMs);
  }

  set(key: string, value: string | Uint8Array, ttlMs: number | undefined): void {
    this.#record(key, `set ${key} ${ttlMs}`);
    this.inner.set(key, value, ttlMs);
  }

  delete(key: string): boolean {
    this.#record(key, `delete ${key}`);
    return this.inner.delete(key);
  }

  #record(key: string, line: string): void {
    (isRecordKey(key) ? this.records : this.#log).push(line);
  }
}
