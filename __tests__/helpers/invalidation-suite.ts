/**
 * Tags and clearing across real processes, written once and run on each topology by
 * `invalidationSuite(name, topology)`: standalone (`integration/invalidation-multiprocess.test.ts`), a
 * 3-master Cluster (`integration/invalidation-multiprocess-cluster.test.ts`) and Sentinel
 * (`integration/invalidation-multiprocess-sentinel.test.ts`). Node children
 * (`helpers/invalidation-child.mjs`) serve a tagged function and an untagged one through the built
 * package, connected with the topology's `store` config (sent as JSON). Each origin answers the
 * `epoch` the parent last wrote to Redis, and the parent bumps it before each invalidation: an answer
 * with an older epoch is an invalidated value. Every key is read, deleted or expired on the node that
 * owns it, asked of the servers. Counts and states only; the visibility of `clear()` in another
 * process is measured (`.scratch/invalidation-figures.txt`, git-ignored), never asserted as a duration.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Child } from './child-process.js';
import { waitFor } from './redis-process.js';

const script = join(__dirname, 'invalidation-child.mjs');
const FIGURES = join(__dirname, '..', '..', '.scratch', 'invalidation-figures.txt');
const LIMIT_MS = 20_000;
const TEST_MS = 60_000;

function figure(line: string): void {
  mkdirSync(join(FIGURES, '..'), { recursive: true });
  appendFileSync(FIGURES, `${new Date().toISOString()} ${line}\n`);
}

/** A plain client of one node (any node-redis client: only `sendCommand` is used). */
export interface NodeClient {
  sendCommand(args: string[]): Promise<unknown>;
}

/** What the suite needs of a running topology, started once by the test file. */
export interface InvalidationTopology {
  /** The children's `store` config, in the form users write (`{ type: 'redis', url | cluster | sentinel }`). */
  store(): Record<string, unknown>;
  /** A client of the node that owns `key` now, asked of the servers. */
  ownerOf(key: string): Promise<NodeClient>;
  /** Empty every node that owns keys. */
  flushAll(): Promise<void>;
}

type Fn = 'tagged' | 'plain';
interface Value {
  fn: Fn;
  id: number;
  epoch: number;
}
interface Counts {
  hits: number;
  misses: number;
  stale: number;
  errors: number;
}
type Message =
  | { type: 'ready' }
  | { type: 'answer'; seq: number; values: Value[]; stats: Record<Fn, Counts> }
  | { type: 'invalidated'; seq: number; at: number }
  | { type: 'holding'; seq: number; epoch: number }
  | { type: 'watched'; seq: number; stale: number; at: number }
  | { type: 'generation'; seq: number; value: string | null }
  | { type: 'closed'; seq: number }
  | { type: 'failed'; seq: number; error: string };

/** One app process, and requests to it answered by `seq`. */
class App {
  readonly child: Child<Message>;
  #seq = 0;
  readonly #replies = new Map<string, { resolve(message: Message): void; reject(error: Error): void }>();

  constructor(env: Record<string, string>) {
    this.child = new Child<Message>(script, env, (message) => {
      if (!('seq' in message)) return;
      if (message.type === 'failed') {
        for (const [slot, waiter] of this.#replies) {
          if (slot.startsWith(`${message.seq}:`)) waiter.reject(new Error(`child failed: ${message.error}`));
        }
        return;
      }
      const waiter = this.#replies.get(`${message.seq}:${message.type}`);
      this.#replies.delete(`${message.seq}:${message.type}`);
      waiter?.resolve(message);
    });
    this.child.process.on('exit', () => {
      for (const waiter of this.#replies.values()) waiter.reject(new Error(`child exited\n${this.child.stderr}`));
    });
  }

  /** Send a request; `replies` are the message types to wait for, in the order of the promises returned. */
  #ask<T extends Message['type'][]>(request: Record<string, unknown>, ...replies: T): { seq: number; replies: Array<Promise<Message>> } {
    const seq = ++this.#seq;
    const promises = replies.map(
      (type) => new Promise<Message>((resolve, reject) => this.#replies.set(`${seq}:${type}`, { resolve, reject })),
    );
    this.child.process.send({ ...request, seq });
    return { seq, replies: promises };
  }

  async call(fn: Fn, ids: number[]): Promise<Extract<Message, { type: 'answer' }>> {
    return (await this.#ask({ type: 'call', fn, ids }, 'answer').replies[0]) as Extract<Message, { type: 'answer' }>;
  }

  async many(fn: Fn, ids: number[]): Promise<Extract<Message, { type: 'answer' }>> {
    return (await this.#ask({ type: 'many', fn, ids }, 'answer').replies[0]) as Extract<Message, { type: 'answer' }>;
  }

  /** Resolves to this process's clock when the invalidation resolved. */
  async invalidateTags(tags: string[]): Promise<number> {
    return ((await this.#ask({ type: 'invalidateTags', tags }, 'invalidated').replies[0]) as { at: number }).at;
  }

  async clear(scope: 'cache' | 'fn', fn?: Fn): Promise<number> {
    return ((await this.#ask({ type: 'clear', scope, fn }, 'invalidated').replies[0]) as { at: number }).at;
  }

  /** Call fn(id) with its origin held: resolves once the origin has read its epoch; `release()` lets it answer. */
  async hold(fn: Fn, id: number): Promise<{ epoch: number; release(): void; answer: Promise<Extract<Message, { type: 'answer' }>> }> {
    const { seq, replies } = this.#ask({ type: 'hold', fn, id }, 'holding', 'answer');
    const holding = (await replies[0]) as { epoch: number };
    return {
      epoch: holding.epoch,
      release: () => this.child.process.send({ type: 'release', seq }),
      answer: replies[1] as Promise<Extract<Message, { type: 'answer' }>>,
    };
  }

  /** Start calling fn(id) every ms until it answers `epoch`. */
  watch(fn: Fn, id: number, epoch: number): Promise<{ stale: number; at: number }> {
    return this.#ask({ type: 'watch', fn, id, epoch }, 'watched').replies[0] as Promise<{ stale: number; at: number }>;
  }

  /** The namespace's clear generation as this process sees it (`null` before it is loaded). */
  async generation(): Promise<string | null> {
    return ((await this.#ask({ type: 'generation' }, 'generation').replies[0]) as { value: string | null }).value;
  }
}

/**
 * The tests, on the topology `topology()` returns (started by the test file's `beforeAll`, which must
 * also build the package: `ensureBuilt()`). `name` labels the describe blocks and the figures.
 */
export function invalidationSuite(name: string, topology: () => InvalidationTopology): void {
  describe(`on ${name}`, () => {
    const apps: App[] = [];

    beforeEach(async () => {
      await topology().flushAll();
    });
    afterEach(async () => {
      await Promise.all(apps.splice(0).map((app) => app.child.kill()));
    });

    /** Start `count` app processes and wait until each is ready (connected, generations loaded). */
    async function start(count: number, env: Record<string, string> = {}): Promise<App[]> {
      const started = Array.from({ length: count }, () => new App({ INV_STORE: JSON.stringify(topology().store()), ...env }));
      apps.push(...started);
      await Promise.all(started.map((app) => app.child.next('ready')));
      return started;
    }

    /** Run a one-key command on the node that owns the key. */
    async function on(command: string, key: string, ...args: string[]): Promise<unknown> {
      return (await topology().ownerOf(key)).sendCommand([command, key, ...args]);
    }
    const get = async (key: string): Promise<string | null> => (await on('GET', key)) as string | null;
    const setEpoch = async (epoch: number): Promise<void> => void (await on('SET', 'epoch', String(epoch)));

    const epochs = (answer: { values: Value[] }): number[] => answer.values.map((value) => value.epoch);

    describe('invalidateTags() across processes', () => {
      it('the caller and every other process miss on their very next call of an invalidated entry, many() included', async () => {
        const [a, b] = (await start(2)) as [App, App];
        await a.call('tagged', [1, 2, 3]);
        await a.call('plain', [1]);
        const warm = await b.call('tagged', [1, 2, 3]);
        expect(epochs(warm)).toEqual([0, 0, 0]);
        expect(warm.stats.tagged).toMatchObject({ hits: 3, misses: 1 }); // 1: the ready call

        await setEpoch(1);
        await a.invalidateTags(['item:1', 'item:2']);
        // Each process's very next call of an invalidated key misses; the other key still hits.
        const inA = await a.call('tagged', [1]);
        const inB = await b.call('tagged', [2, 3]);
        expect(epochs(inA)).toEqual([1]);
        expect(inA.stats.tagged).toMatchObject({ hits: 0, misses: 5 });
        expect(epochs(inB)).toEqual([1, 0]);
        expect(inB.stats.tagged).toMatchObject({ hits: 4, misses: 2 });

        // invalidated by B this time, read by A in one many().
        await setEpoch(2);
        await b.invalidateTags(['all']);
        const batch = await a.many('tagged', [1, 2, 3]);
        expect(epochs(batch)).toEqual([2, 2, 2]);
        expect(batch.stats.tagged).toMatchObject({ hits: 0, misses: 8 });
        // Untagged entries are untouched by tags.
        expect(epochs(await b.call('plain', [1]))).toEqual([0]);
        expect(epochs(await a.call('plain', [1]))).toEqual([0]);
      }, TEST_MS);

      it('never lets an origin that started before the invalidation and finished after it write a value served as fresh', async () => {
        const [a, b] = (await start(2)) as [App, App];
        // Another process invalidates while A's origin runs.
        const held = await a.hold('tagged', 5);
        expect(held.epoch).toBe(0);
        await setEpoch(1);
        await b.invalidateTags(['item:5']);
        held.release();
        expect(epochs(await held.answer)).toEqual([0]); // its own caller gets it
        expect(await get('inv:tagged:5')).toContain('"epoch":0'); // and it was written
        expect(epochs(await a.call('tagged', [5]))).toEqual([1]);
        expect(epochs(await b.call('tagged', [5]))).toEqual([1]);

        // The process running the origin invalidates it itself.
        const own = await a.hold('tagged', 6);
        await setEpoch(2);
        await a.invalidateTags(['item:6']);
        own.release();
        expect(epochs(await own.answer)).toEqual([1]);
        expect(epochs(await b.call('tagged', [6]))).toEqual([2]);
        expect(epochs(await a.call('tagged', [6]))).toEqual([2]);
      }, TEST_MS);

      it('treats a deleted or expired tag record as gone in every process, never as fresh again', async () => {
        const [a, b] = (await start(2)) as [App, App];
        await a.call('tagged', [1, 2]);
        expect(epochs(await b.call('tagged', [1, 2]))).toEqual([0, 0]);

        await setEpoch(1);
        expect(await on('DEL', 'inv:tag|all')).toBe(1);
        expect(epochs(await a.call('tagged', [1]))).toEqual([1]);
        expect(epochs(await b.call('tagged', [2]))).toEqual([1]);

        await setEpoch(2);
        expect(await on('PEXPIRE', 'inv:tag|all', '1')).toBe(1);
        await waitFor('the tag record to expire', async () => (await on('EXISTS', 'inv:tag|all')) === 0, LIMIT_MS, 5);
        const inB = await b.call('tagged', [1]);
        const inA = await a.call('tagged', [2]);
        expect(epochs(inB)).toEqual([2]);
        expect(epochs(inA)).toEqual([2]);
        // The ready call, the warm-up, and every read after a loss: each missed.
        expect(inA.stats.tagged).toMatchObject({ hits: 0, misses: 5 });
        expect(inB.stats.tagged).toMatchObject({ hits: 2, misses: 3 });
      }, TEST_MS);
    });

    describe('clear() across processes', () => {
      for (const pollMs of [50, undefined]) {
        const label = pollMs === undefined ? 'the default clearPollInterval' : `clearPollInterval ${pollMs} ms`;
        it(`stops the caller at once and another process within ${label} (visibility measured)`, async () => {
          const [a, b] = (await start(2, pollMs === undefined ? {} : { INV_POLL_MS: String(pollMs) })) as [App, App];
          await a.call('plain', [1, 2]);
          expect(epochs(await b.call('plain', [1, 2]))).toEqual([0, 0]);
          await setEpoch(1);
          const watching = b.watch('plain', 1, 1);
          const resolvedAt = await a.clear('cache');
          const inA = await a.call('plain', [2]);
          expect(epochs(inA)).toEqual([1]);
          expect(inA.stats.plain.hits).toBe(0);
          const watched = await watching;
          expect(watched.at).toBeGreaterThan(0);
          expect(await b.generation()).toBe(await get('inv|gen'));
          figure(`${name}: clear() visibility in another process with ${label}: ${Math.round(watched.at - resolvedAt)} ms after the resolve (stale answers while watching: ${watched.stale})`);
        }, TEST_MS);
      }

      it('never lets an origin that started before clear() and finished after it write a value served as fresh', async () => {
        const [a, b] = (await start(2, { INV_POLL_MS: '50' })) as [App, App];
        const held = await a.hold('plain', 5);
        await setEpoch(1);
        await b.clear('cache');
        // A sees the new generation (its poll) before its origin answers.
        const cleared = await get('inv|gen');
        await waitFor('A to see the clear', async () => (await a.generation()) === cleared, LIMIT_MS, 10);
        held.release();
        expect(epochs(await held.answer)).toEqual([0]);
        expect(await get('inv:plain:5')).toContain('"epoch":0');
        expect(epochs(await a.call('plain', [5]))).toEqual([1]);
        expect(epochs(await b.call('plain', [5]))).toEqual([1]);

        // f.clear() of the tagged function, by the process whose origin runs.
        const own = await a.hold('tagged', 6);
        await setEpoch(2);
        await a.clear('fn', 'tagged');
        own.release();
        expect(epochs(await own.answer)).toEqual([1]);
        expect(epochs(await a.call('tagged', [6]))).toEqual([2]);
      }, TEST_MS);
    });
  });
}
