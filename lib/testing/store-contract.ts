/**
 * The contract every {@link Store} passes, as a suite you run from your own tests with your own test
 * runner (jest, vitest, `node:test`): hand it your runner's `describe` and `it` (or only `test`), and
 * a factory that makes a fresh store for each case.
 *
 * Assertions are `node:assert/strict`, so the suite needs no `expect`: a failed case throws an
 * `AssertionError`, which every runner reports.
 * @module
 */
import assert from 'node:assert/strict';
import type { MaybePromise, Store } from '../stores/store.js';

/** What {@link runStoreContract}'s factory gives the suite for one case. */
export interface StoreUnderTest {
  /** A fresh store (or one whose data the previous case's `cleanup` removed). */
  readonly store: Store;
  /**
   * Remaining time to live of `key` in ms: `Infinity` for an entry without expiry, `undefined` when the
   * key is absent. For Redis, read `PTTL` with a client of your own: `-1` → `Infinity`, `-2` →
   * `undefined`, otherwise the number. Checked as a range (the server's clock moves on its own).
   */
  readonly inspectTtl: (key: string) => MaybePromise<number | undefined>;
  /**
   * Move the store's clock forward by `ms`. Give it when the store runs on a clock the test controls:
   * the TTL cases then also move time past each TTL and check that the entry is gone. Leave it out
   * for a server that expires entries itself (Redis): the cases then check the TTL it was given.
   */
  readonly advance?: (ms: number) => MaybePromise<void>;
  /** Release the store and what the case set up for it (close it, flush the database …). */
  readonly cleanup: () => MaybePromise<void>;
}

/**
 * One test body as the suite registers it. Its `length` is 0 on purpose (jest would take a declared
 * parameter for a `done` callback); the runner's context, if any, arrives as the first argument.
 */
export type ContractCase = (...context: unknown[]) => Promise<void>;

/** Registers one test: jest's or vitest's `it`/`test`, or `node:test`'s `test`/`it`. */
export type TestFunction = (name: string, body: ContractCase) => unknown;

/**
 * The test runner's functions the suite registers its cases with: `it` or `test`, and optionally
 * `describe` to group them (without it, each case's name starts with the suite's).
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';      // or '@jest/globals', or 'node:test'
 * runStoreContract('MyStore', makeStore, { describe, it });
 * ```
 */
export type TestFunctions = TestFunctionsWithIt | TestFunctionsWithTest;

/** A runner's functions when it has `it` (jest, vitest, mocha). */
export interface TestFunctionsWithIt {
  /** Registers one case (`it` of jest, vitest, mocha, `node:test`). */
  readonly it: TestFunction;
  /** Registers one case too; unused when `it` is given. */
  readonly test?: TestFunction;
  /** Groups cases; without it, each case's name carries the group's title instead. */
  readonly describe?: (name: string, body: () => void) => unknown;
}

/** A runner's functions when it has only `test` (`node:test`'s `test`, jest's `test`). */
export interface TestFunctionsWithTest {
  /** Registers one case. */
  readonly test: TestFunction;
  /** Registers one case too; used first when given. */
  readonly it?: TestFunction;
  /** Groups cases; without it, each case's name carries the group's title instead. */
  readonly describe?: (name: string, body: () => void) => unknown;
}

/** The optional {@link Store} methods the suite has cases for. */
export type StoreCapability = 'getAndExpire' | 'getMany' | 'setIfAbsent' | 'deleteIfEquals' | 'replaceIfEquals';

/** Options of {@link runStoreContract}. */
export interface StoreContractOptions {
  /**
   * The optional methods your store has. Cases for the others are not registered at all. Without
   * this option the suite registers every case and finds out per case: a case for a method the
   * store lacks is skipped (through the runner's `skip()` where its context has one, as in vitest and
   * `node:test`; under jest it passes without running).
   * @defaultValue every capability, detected per case
   */
  readonly capabilities?: readonly StoreCapability[];
}

const MINUTE = 60_000;

/**
 * Register the store contract suite for one store implementation: reads, writes, overwrites, deletes,
 * TTLs (checked with `inspectTtl`, and with `advance` when given), and the optional `getAndExpire`,
 * `getMany`, `setIfAbsent`, `deleteIfEquals` and `replaceIfEquals`. Every case gets a store from `makeStore` and calls its
 * `cleanup` after, pass or fail. Keys used by the suite all start with `contract:`.
 *
 * @param name - names the suite, e.g. `'MyStore'`.
 * @param makeStore - makes the store for one case.
 * @param runner - the test runner's `describe` and `it` (or `test`).
 *
 * @example
 * ```ts
 * import { describe, it } from 'node:test';
 * import { runStoreContract } from 'cachette/testing';
 *
 * runStoreContract('MapStore', async () => {
 *   const store = new MapStore();
 *   return { store, inspectTtl: (key) => store.ttlOf(key), cleanup: () => store.clear() };
 * }, { describe, it });
 * ```
 */
export function runStoreContract(
  name: string,
  makeStore: () => MaybePromise<StoreUnderTest>,
  runner: TestFunctions,
  options: StoreContractOptions = {},
): void {
  const register = runner.it ?? runner.test;
  if (typeof register !== 'function') throw new TypeError('runStoreContract: give your test runner’s `it` or `test`');
  const declared = options.capabilities === undefined ? undefined : new Set(options.capabilities);
  let prefix = '';
  /** Group cases: the runner's `describe`, or (without one) a prefix on each case's name. */
  const group = (title: string, body: () => void): void => {
    if (runner.describe) {
      runner.describe(title, body);
      return;
    }
    const before = prefix;
    prefix = `${prefix}${title} › `;
    try {
      body();
    } finally {
      prefix = before;
    }
  };

  /** Register one case: a fresh store, the body, then cleanup whatever happened. */
  const test = (title: string, body: (sut: StoreUnderTest) => Promise<void>, needs?: StoreCapability): void => {
    if (needs !== undefined && declared !== undefined && !declared.has(needs)) return;
    const full = runner.describe ? title : `${prefix}${title}`;
    register(full, async (...context: unknown[]) => {
      const sut = await makeStore();
      try {
        if (needs !== undefined && typeof sut.store[needs] !== 'function') {
          if (declared !== undefined) assert.fail(`the store was declared to have ${needs}() but has none`);
          skip(context[0]);
          return;
        }
        await body(sut);
      } finally {
        await sut.cleanup();
      }
    });
  };

  group(`${name} store contract`, () => registerCases(test, group));
}

type Register = (title: string, body: (sut: StoreUnderTest) => Promise<void>, needs?: StoreCapability) => void;
type Group = (title: string, body: () => void) => void;

/** Mark a case skipped through the runner's context, when it has a `skip()` (vitest, node:test). */
function skip(context: unknown): void {
  const skipper = (context as { skip?: unknown } | null | undefined)?.skip;
  if (typeof skipper === 'function') (skipper as (this: unknown) => void).call(context);
}

const ttlOf = async (sut: StoreUnderTest, key: string): Promise<number | undefined> => sut.inspectTtl(key);

/** `remaining` is a live TTL of at most `ttlMs`, and more than half of it (nothing sleeps in between). */
function assertLiveTtl(remaining: number | undefined, ttlMs: number, key: string): void {
  assert.ok(remaining !== undefined, `${key}: expected a live ttl, the key is absent`);
  assert.ok(remaining > ttlMs / 2 && remaining <= ttlMs, `${key}: expected a ttl in (${ttlMs / 2}, ${ttlMs}] ms, got ${remaining}`);
}

function registerCases(test: Register, group: Group): void {
  test('has a short name for logs', async ({ store }) => {
    assert.equal(typeof store.name, 'string');
    assert.ok(store.name.length > 0, 'store.name is empty');
  });

  test('returns undefined for a key that was never set', async (sut) => {
    assert.equal(await sut.store.get('contract:absent'), undefined);
    assert.equal(await ttlOf(sut, 'contract:absent'), undefined);
  });

  test('returns exactly the payload that was set', async ({ store }) => {
    const payload = `c1|json|1700000000000||{"name":"é日本😀","pipes":"a|b"}`;
    await store.set('contract:text', payload, undefined);
    assert.equal(await store.get('contract:text'), payload);
  });

  test('stores payloads under keys with separators and unicode', async ({ store }) => {
    await store.set('contract:ns:f:"a:b":é', 'one', undefined);
    await store.set('contract:ns:f:a:"b:é"', 'two', undefined);
    assert.equal(await store.get('contract:ns:f:"a:b":é'), 'one');
    assert.equal(await store.get('contract:ns:f:a:"b:é"'), 'two');
  });

  test('stores a large payload whole', async ({ store }) => {
    const payload = 'x'.repeat(256 * 1024);
    await store.set('contract:large', payload, undefined);
    assert.equal(await store.get('contract:large'), payload);
  });

  test('overwrites a value, and replaces its ttl', async (sut) => {
    await sut.store.set('contract:over', 'first', MINUTE);
    await sut.store.set('contract:over', 'second', undefined);
    assert.equal(await sut.store.get('contract:over'), 'second');
    assert.equal(await ttlOf(sut, 'contract:over'), Infinity);
  });

  test('keeps keys apart', async ({ store }) => {
    await store.set('contract:a', 'A', undefined);
    await store.set('contract:b', 'B', undefined);
    assert.equal(await store.delete('contract:a'), true);
    assert.equal(await store.get('contract:a'), undefined);
    assert.equal(await store.get('contract:b'), 'B');
  });

  test('keeps an entry without a ttl with no expiry', async (sut) => {
    await sut.store.set('contract:forever', 'v', undefined);
    assert.equal(await ttlOf(sut, 'contract:forever'), Infinity);
    if (sut.advance) {
      await sut.advance(365 * 24 * 60 * MINUTE);
      assert.equal(await sut.store.get('contract:forever'), 'v');
    }
  });

  test('expires an entry after its ttl', async (sut) => {
    await sut.store.set('contract:ttl', 'v', MINUTE);
    assertLiveTtl(await ttlOf(sut, 'contract:ttl'), MINUTE, 'contract:ttl');
    assert.equal(await sut.store.get('contract:ttl'), 'v');
    if (sut.advance) {
      await sut.advance(MINUTE - 1);
      assert.equal(await sut.store.get('contract:ttl'), 'v', 'expired 1 ms early');
      await sut.advance(2);
      assert.equal(await sut.store.get('contract:ttl'), undefined, 'still there 1 ms after its ttl');
      assert.equal(await ttlOf(sut, 'contract:ttl'), undefined);
    }
  });

  test('deletes: true when an entry was removed, false when there was none', async ({ store }) => {
    assert.equal(await store.delete('contract:del'), false);
    await store.set('contract:del', 'v', MINUTE);
    assert.equal(await store.delete('contract:del'), true);
    assert.equal(await store.get('contract:del'), undefined);
    assert.equal(await store.delete('contract:del'), false);
  });

  test('deletes a live entry that has a ttl, and reports false for one that has expired', async (sut) => {
    await sut.store.set('contract:live', 'v', MINUTE);
    assert.equal(await sut.store.delete('contract:live'), true);
    await sut.store.set('contract:stale', 'v', MINUTE);
    if (sut.advance) {
      await sut.advance(MINUTE + 1);
      assert.equal(await sut.store.delete('contract:stale'), false);
    }
  });

  group('getAndExpire', () => registerGetAndExpire(test));
  group('getMany (f.many() reads with it)', () => registerGetMany(test));
  group('setIfAbsent (the miss lock takes its lock with it)', () => registerSetIfAbsent(test));
  group('deleteIfEquals (the miss lock releases its lock with it)', () => registerDeleteIfEquals(test));
  group('replaceIfEquals (invalidateTags and clear with { stale: true } expire records with it)', () => registerReplaceIfEquals(test));
}

function registerGetAndExpire(test: Register): void {
  const needs = 'getAndExpire';
  test(
    'returns undefined for an absent key and does not create it',
    async (sut) => {
      assert.equal(await sut.store.getAndExpire!('contract:gx-absent', MINUTE), undefined);
      assert.equal(await sut.store.get('contract:gx-absent'), undefined);
      assert.equal(await ttlOf(sut, 'contract:gx-absent'), undefined);
    },
    needs,
  );

  test(
    'returns the value and resets its ttl in the same call',
    async (sut) => {
      await sut.store.set('contract:gx', 'v', MINUTE);
      if (sut.advance) await sut.advance(MINUTE / 2);
      assert.equal(await sut.store.getAndExpire!('contract:gx', 10 * MINUTE), 'v');
      assertLiveTtl(await ttlOf(sut, 'contract:gx'), 10 * MINUTE, 'contract:gx');
      if (sut.advance) {
        await sut.advance(MINUTE); // past the original expiry
        assert.equal(await sut.store.get('contract:gx'), 'v');
        await sut.advance(9 * MINUTE + 1);
        assert.equal(await sut.store.get('contract:gx'), undefined);
      }
    },
    needs,
  );

  test(
    'can shorten a ttl, and gives an entry without expiry one',
    async (sut) => {
      await sut.store.set('contract:gx-short', 'v', undefined);
      assert.equal(await sut.store.getAndExpire!('contract:gx-short', MINUTE), 'v');
      assertLiveTtl(await ttlOf(sut, 'contract:gx-short'), MINUTE, 'contract:gx-short');
      if (sut.advance) {
        await sut.advance(MINUTE + 1);
        assert.equal(await sut.store.get('contract:gx-short'), undefined);
      }
    },
    needs,
  );

  test(
    'removes the expiry when given Infinity',
    async (sut) => {
      await sut.store.set('contract:gx-persist', 'v', MINUTE);
      assert.equal(await sut.store.getAndExpire!('contract:gx-persist', Infinity), 'v');
      assert.equal(await ttlOf(sut, 'contract:gx-persist'), Infinity);
      if (sut.advance) {
        await sut.advance(10 * MINUTE);
        assert.equal(await sut.store.get('contract:gx-persist'), 'v');
      }
    },
    needs,
  );
}

function registerGetMany(test: Register): void {
  test(
    'returns the payloads in the order of the keys, undefined for absent or expired ones, repeated keys included',
    async (sut) => {
      await sut.store.set('contract:gm-a', 'a', MINUTE);
      await sut.store.set('contract:gm-b', 'b', undefined);
      await sut.store.set('contract:gm-short', 's', 10);
      if (sut.advance) await sut.advance(11);
      const keys = ['contract:gm-b', 'contract:gm-absent', 'contract:gm-a', 'contract:gm-b'];
      if (sut.advance) keys.push('contract:gm-short');
      const read = await sut.store.getMany!(keys);
      assert.deepEqual([...read], ['b', undefined, 'a', 'b', ...(sut.advance ? [undefined] : [])]);
      assert.equal(await ttlOf(sut, 'contract:gm-absent'), undefined);
    },
    'getMany',
  );
}

function registerSetIfAbsent(test: Register): void {
  const needs = 'setIfAbsent';
  test(
    'stores into an absent key with the given ttl, and says so',
    async (sut) => {
      assert.equal(await sut.store.setIfAbsent!('contract:nx', 'token-a', MINUTE), true);
      assert.equal(await sut.store.get('contract:nx'), 'token-a');
      assertLiveTtl(await ttlOf(sut, 'contract:nx'), MINUTE, 'contract:nx');
    },
    needs,
  );

  test(
    'leaves a key that holds a value alone, value and ttl',
    async (sut) => {
      await sut.store.set('contract:nx-held', 'first', 10 * MINUTE);
      assert.equal(await sut.store.setIfAbsent!('contract:nx-held', 'second', MINUTE), false);
      assert.equal(await sut.store.get('contract:nx-held'), 'first');
      assertLiveTtl(await ttlOf(sut, 'contract:nx-held'), 10 * MINUTE, 'contract:nx-held');
      assert.equal(await sut.store.setIfAbsent!('contract:nx-held', 'third', MINUTE), false);
    },
    needs,
  );

  test(
    'lets exactly one of many concurrent attempts win',
    async ({ store }) => {
      const attempts = await Promise.all(Array.from({ length: 20 }, (_, i) => store.setIfAbsent!('contract:nx-race', `token-${i}`, MINUTE)));
      assert.equal(attempts.filter(Boolean).length, 1, `${attempts.filter(Boolean).length} of 20 attempts won`);
      assert.equal(await store.get('contract:nx-race'), `token-${attempts.indexOf(true)}`);
    },
    needs,
  );

  test(
    'stores again once the earlier value has expired',
    async (sut) => {
      assert.equal(await sut.store.setIfAbsent!('contract:nx-expire', 'old', MINUTE), true);
      if (sut.advance) {
        await sut.advance(MINUTE + 1);
        assert.equal(await sut.store.setIfAbsent!('contract:nx-expire', 'new', MINUTE), true);
        assert.equal(await sut.store.get('contract:nx-expire'), 'new');
      }
    },
    needs,
  );

  test(
    'stores again after the key was deleted',
    async ({ store }) => {
      assert.equal(await store.setIfAbsent!('contract:nx-del', 'a', MINUTE), true);
      await store.delete('contract:nx-del');
      assert.equal(await store.setIfAbsent!('contract:nx-del', 'b', MINUTE), true);
      assert.equal(await store.get('contract:nx-del'), 'b');
    },
    needs,
  );
}

function registerDeleteIfEquals(test: Register): void {
  const needs = 'deleteIfEquals';
  test(
    'deletes the key while it holds exactly the given value',
    async (sut) => {
      await sut.store.set('contract:cad', 'token-a', MINUTE);
      assert.equal(await sut.store.deleteIfEquals!('contract:cad', 'token-a'), true);
      assert.equal(await sut.store.get('contract:cad'), undefined);
      assert.equal(await ttlOf(sut, 'contract:cad'), undefined);
    },
    needs,
  );

  test(
    'leaves a key holding another value alone',
    async (sut) => {
      await sut.store.set('contract:cad-other', 'token-b', MINUTE);
      assert.equal(await sut.store.deleteIfEquals!('contract:cad-other', 'token-a'), false);
      assert.equal(await sut.store.deleteIfEquals!('contract:cad-other', 'token-b-and-more'), false);
      assert.equal(await sut.store.deleteIfEquals!('contract:cad-other', 'token'), false);
      assert.equal(await sut.store.get('contract:cad-other'), 'token-b');
      assertLiveTtl(await ttlOf(sut, 'contract:cad-other'), MINUTE, 'contract:cad-other');
    },
    needs,
  );

  test(
    'reports false for an absent key',
    async ({ store }) => {
      assert.equal(await store.deleteIfEquals!('contract:cad-absent', 'token-a'), false);
    },
    needs,
  );

  test(
    'never deletes a value written by someone else after the first one expired',
    async (sut) => {
      await sut.store.set('contract:cad-lost', 'first-holder', MINUTE);
      if (sut.advance) await sut.advance(MINUTE + 1);
      else await sut.store.delete('contract:cad-lost'); // what expiry does, without sleeping
      await sut.store.set('contract:cad-lost', 'second-holder', MINUTE);
      assert.equal(await sut.store.deleteIfEquals!('contract:cad-lost', 'first-holder'), false);
      assert.equal(await sut.store.get('contract:cad-lost'), 'second-holder');
      assert.equal(await sut.store.deleteIfEquals!('contract:cad-lost', 'second-holder'), true);
    },
    needs,
  );
}

function registerReplaceIfEquals(test: Register): void {
  const needs = 'replaceIfEquals';
  test(
    'replaces the value while the key holds exactly the expected one, keeping its TTL',
    async (sut) => {
      await sut.store.set('contract:cas', 'hard.soft-1', MINUTE);
      assert.equal(await sut.store.replaceIfEquals!('contract:cas', 'hard.soft-1', 'hard.soft-2'), true);
      assert.equal(await sut.store.get('contract:cas'), 'hard.soft-2');
      assertLiveTtl(await ttlOf(sut, 'contract:cas'), MINUTE, 'contract:cas');
    },
    needs,
  );

  test(
    'leaves a key holding another value alone',
    async (sut) => {
      await sut.store.set('contract:cas-other', 'value-b', MINUTE);
      assert.equal(await sut.store.replaceIfEquals!('contract:cas-other', 'value-a', 'next'), false);
      assert.equal(await sut.store.replaceIfEquals!('contract:cas-other', 'value', 'next'), false);
      assert.equal(await sut.store.replaceIfEquals!('contract:cas-other', 'value-b-and-more', 'next'), false);
      assert.equal(await sut.store.get('contract:cas-other'), 'value-b');
    },
    needs,
  );

  test(
    'reports false for an absent key and does not create it',
    async (sut) => {
      assert.equal(await sut.store.replaceIfEquals!('contract:cas-absent', 'value-a', 'next'), false);
      assert.equal(await sut.store.get('contract:cas-absent'), undefined);
      assert.equal(await ttlOf(sut, 'contract:cas-absent'), undefined);
    },
    needs,
  );

  test(
    'replaces a value stored with setIfAbsent (how records are created)',
    async (sut) => {
      if (sut.store.setIfAbsent === undefined) return;
      assert.equal(await sut.store.setIfAbsent('contract:cas-nx', 'first', MINUTE), true);
      assert.equal(await sut.store.replaceIfEquals!('contract:cas-nx', 'first', 'second'), true);
      assert.equal(await sut.store.get('contract:cas-nx'), 'second');
      assertLiveTtl(await ttlOf(sut, 'contract:cas-nx'), MINUTE, 'contract:cas-nx');
    },
    needs,
  );
}
