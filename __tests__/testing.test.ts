/**
 * `cachette/testing`: the store contract suite as a store author uses it. With a recording runner:
 * what it registers, how it skips the optional methods a store lacks, and that it fails a store that
 * breaks the contract. Then the built package, from outside the repository: the subpath resolves for
 * `import` and `require`, and the suite runs under `node:test` against the memory store.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { runStoreContract, type Store, type StoreContractOptions, type StoreUnderTest, type TestFunctions } from '../lib/testing/index.js';
import { linkedBuild } from './helpers/build.js';

/** A store on a Map with TTLs on a hand-moved clock, and only the methods asked for. */
function mapStore(options: { optional?: boolean; ignoreTtl?: boolean } = {}): StoreUnderTest {
  let now = 0;
  const entries = new Map<string, { value: string | Uint8Array; expires: number }>();
  const live = (key: string) => {
    const entry = entries.get(key);
    if (entry !== undefined && entry.expires <= now) entries.delete(key);
    return entries.get(key);
  };
  const expiry = (ttlMs: number | undefined): number => (ttlMs === undefined || ttlMs === Infinity || options.ignoreTtl ? Infinity : now + ttlMs);
  const store: Store = {
    name: 'map',
    get: (key) => live(key)?.value,
    set: (key, value, ttlMs) => void entries.set(key, { value, expires: expiry(ttlMs) }),
    delete: (key) => live(key) !== undefined && entries.delete(key),
  };
  if (options.optional) {
    store.getAndExpire = (key, ttlMs) => {
      const entry = live(key);
      if (entry !== undefined) entry.expires = expiry(ttlMs);
      return entry?.value;
    };
    store.getMany = (keys) => keys.map((key) => live(key)?.value);
    store.setIfAbsent = (key, value, ttlMs) => live(key) === undefined && (entries.set(key, { value, expires: expiry(ttlMs) }), true);
    store.deleteIfEquals = (key, value) => live(key)?.value === value && entries.delete(key);
    store.replaceIfEquals = (key, expected, value) => {
      const entry = live(key);
      if (entry === undefined || entry.value !== expected) return false;
      entry.value = value;
      return true;
    };
  }
  return {
    store,
    inspectTtl: (key) => {
      const entry = live(key);
      return entry === undefined ? undefined : entry.expires === Infinity ? Infinity : entry.expires - now;
    },
    advance: (ms) => void (now += ms),
    cleanup: () => entries.clear(),
  };
}

interface Outcome {
  name: string;
  result: 'passed' | 'skipped' | 'failed';
  error?: string;
}

/** Register the suite with a runner that records each case, then run them all in order. */
async function runWith(make: () => StoreUnderTest, shape: 'describe' | 'test', options?: StoreContractOptions): Promise<Outcome[]> {
  const cases: Array<{ name: string; body: (...context: unknown[]) => Promise<void> }> = [];
  const path: string[] = [];
  const register = (name: string, body: (...context: unknown[]) => Promise<void>): void => {
    expect(body.length).toBe(0); // jest would read a declared parameter as a done callback
    cases.push({ name: [...path, name].join(' / '), body });
  };
  const runner: TestFunctions =
    shape === 'describe'
      ? {
          it: register,
          describe: (name, body) => {
            path.push(name);
            body();
            path.pop();
          },
        }
      : { test: register };
  runStoreContract('Map', async () => make(), runner, options);
  const outcomes: Outcome[] = [];
  for (const { name, body } of cases) {
    let skipped = false;
    try {
      await body({ skip: () => (skipped = true) });
      outcomes.push({ name, result: skipped ? 'skipped' : 'passed' });
    } catch (error) {
      outcomes.push({ name, result: 'failed', error: (error as Error).message });
    }
  }
  return outcomes;
}

const count = (outcomes: Outcome[], result: Outcome['result']): number => outcomes.filter((o) => o.result === result).length;

describe('runStoreContract', () => {
  it('passes a store with every optional method, grouped under the runner’s describe', async () => {
    const outcomes = await runWith(() => mapStore({ optional: true }), 'describe');
    expect(outcomes.filter((o) => o.result !== 'passed')).toEqual([]);
    expect(outcomes).toHaveLength(29);
    expect(outcomes[0]!.name).toBe('Map store contract / has a short name for logs');
    expect(outcomes.map((o) => o.name)).toContain('Map store contract / getAndExpire / removes the expiry when given Infinity');
  });

  it('skips the cases of optional methods a store lacks, through the runner context’s skip()', async () => {
    const outcomes = await runWith(() => mapStore(), 'describe');
    expect(count(outcomes, 'failed')).toBe(0);
    expect(count(outcomes, 'skipped')).toBe(18);
    expect(count(outcomes, 'passed')).toBe(11);
    expect(outcomes.filter((o) => o.result === 'skipped').every((o) => /getAndExpire|getMany|setIfAbsent|deleteIfEquals|replaceIfEquals/.test(o.name))).toBe(true);
  });

  it('registers no case for a capability left out of `capabilities`', async () => {
    const outcomes = await runWith(() => mapStore(), 'describe', { capabilities: [] });
    expect(outcomes).toHaveLength(11);
    expect(count(outcomes, 'passed')).toBe(11);
  });

  it('fails the cases of a capability declared but missing', async () => {
    const outcomes = await runWith(() => mapStore(), 'describe', { capabilities: ['setIfAbsent'] });
    const failed = outcomes.filter((o) => o.result === 'failed');
    expect(failed).toHaveLength(5);
    expect(failed[0]!.error).toContain('declared to have setIfAbsent() but has none');
  });

  it('works with only `test`, naming each case after the suite', async () => {
    const outcomes = await runWith(() => mapStore({ optional: true }), 'test');
    expect(count(outcomes, 'passed')).toBe(29);
    expect(outcomes.map((o) => o.name)).toContain('Map store contract › setIfAbsent (the miss lock takes its lock with it) › lets exactly one of many concurrent attempts win');
  });

  it('fails a store that does not expire its entries', async () => {
    const outcomes = await runWith(() => mapStore({ optional: true, ignoreTtl: true }), 'describe');
    const failed = outcomes.filter((o) => o.result === 'failed').map((o) => o.name);
    expect(failed).toContain('Map store contract / expires an entry after its ttl');
    expect(failed.length).toBeGreaterThanOrEqual(5);
  });

  it('cleans up after a failing case too', async () => {
    let cleanups = 0;
    const outcomes = await runWith(() => {
      const sut = mapStore({ optional: true, ignoreTtl: true });
      return { ...sut, cleanup: () => void cleanups++ };
    }, 'describe');
    expect(cleanups).toBe(outcomes.length);
  });

  it('refuses a runner without it or test', () => {
    expect(() => runStoreContract('Map', async () => mapStore(), {} as TestFunctions)).toThrow(TypeError);
  });
});

describe('the built cachette/testing subpath', () => {
  const root = join(__dirname, '..');
  const dir = linkedBuild('cachette-testing-');

  it('points every condition of the exports entry at a built file', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    const entry = pkg.exports['./testing'] as Record<'import' | 'require', { types: string; default: string }>;
    const targets = [entry.import.types, entry.import.default, entry.require.types, entry.require.default];
    expect(targets.filter((target) => !existsSync(join(root, target)))).toEqual([]);
  });

  it('is found by import and by require from outside the repository', () => {
    const esm = spawnSync(process.execPath, ['--input-type=module', '-e', "const m = await import('cachette/testing'); console.log(typeof m.runStoreContract)"], {
      cwd: dir(),
      encoding: 'utf8',
    });
    const cjs = spawnSync(process.execPath, ['-e', "console.log(typeof require('cachette/testing').runStoreContract)"], { cwd: dir(), encoding: 'utf8' });
    expect([esm.stdout.trim(), esm.stderr, cjs.stdout.trim(), cjs.stderr]).toEqual(['function', '', 'function', '']);
  });

  it('runs the contract under node:test against the memory store', () => {
    writeFileSync(
      join(dir(), 'memory.test.mjs'),
      [
        "import { describe, it } from 'node:test';",
        "import { MemoryStore } from 'cachette';",
        "import { runStoreContract } from 'cachette/testing';",
        'runStoreContract("MemoryStore", () => {',
        '  let now = 1_700_000_000_000;',
        '  const store = new MemoryStore({ clock: { now: () => now } });',
        '  return { store, advance: (ms) => { now += ms; }, inspectTtl: (key) => store.ttlOf(key), cleanup: () => store.close() };',
        '}, { describe, it });',
      ].join('\n'),
    );
    const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', 'memory.test.mjs'], { cwd: dir(), encoding: 'utf8', timeout: 60_000 });
    const summary = Object.fromEntries([...run.stdout.matchAll(/^# (pass|fail|skipped) (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
    expect({ status: run.status, summary }).toEqual({ status: 0, summary: { pass: 29, fail: 0, skipped: 0 } });
  });
});
