/**
 * The in-process tier (`l1`) across 3 real processes, written once and run on each topology by
 * `coherenceSuite(name, topology)`: standalone (`integration/coherence-multiprocess.test.ts`) and a
 * 3-master Cluster (`integration/coherence-multiprocess-cluster.test.ts`). Three Node children
 * (`helpers/coherence-child.mjs`) serve one tagged function through the built package, each with the
 * tier on. Each origin answers the epoch the parent last set in that process, and the parent raises it
 * in every process before a write: an answer with an older epoch is an old value.
 *
 * Every check first has the readers serve the old value from their tier (`l1Hits` grows), so a new
 * value seen afterwards proves a tier copy was dropped. Visibility is polled with a count limit, never
 * slept for; how many old answers a reader gave meanwhile is measured (`.scratch/coherence-figures.txt`,
 * git-ignored), not asserted. After a cut of the tracking connection, or a master's death, what is
 * asserted is a count: 0 old answers among the calls that started after the write resolved. A reader
 * calls back to back, one macrotask apart, and a call counts once the call before it also started
 * after the write resolved: the server sends an invalidation before it answers the writer, and between
 * two such calls the reader has read its sockets, so an old answer there is one the tier should not
 * have given (the bound itself, from the write to that read, is measured by `bench/l1-latency.mjs`).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Child } from './child-process.js';
import { waitFor } from './redis-process.js';

const script = join(__dirname, 'coherence-child.mjs');
const FIGURES = join(__dirname, '..', '..', '.scratch', 'coherence-figures.txt');
const TEST_MS = 90_000;
/** Calls a watching reader makes (1 ms apart) before the test fails: the visibility bound, as a count. */
const WATCH_LIMIT = 5_000;
/** Calls a spinning reader makes after the new value (with the tier ready again) before it stops. */
const SPIN_AFTER = 200;
/** Calls a spinning reader makes at most, in all. */
const SPIN_BOUND = 2_000_000;
/** The name of the tier's tracking connections in `CLIENT LIST`. */
const TRACKING_NAME = 'cachette-l1';

function figure(line: string): void {
  mkdirSync(join(FIGURES, '..'), { recursive: true });
  appendFileSync(FIGURES, `${new Date().toISOString()} ${line}\n`);
}

/** A plain client of one node (any node-redis client: only `sendCommand` is used). */
export interface NodeClient {
  sendCommand(args: string[]): Promise<unknown>;
}

/** What the suite needs of a running topology, started once by the test file. */
export interface CoherenceTopology {
  /** The children's `store` config, in the form users write (`{ type: 'redis', url | cluster }`). */
  store(): Record<string, unknown>;
  /** A client of every master now. */
  masters(): NodeClient[];
  /** A client of the node that owns `key` now, asked of the servers. */
  ownerOf(key: string): Promise<NodeClient>;
  /** Empty every node that owns keys. */
  flushAll(): Promise<void>;
  /**
   * Cluster only: SIGKILL the master that owns `key` and wait until a replica has taken over its
   * slots; resolves to a function that starts the killed node again (as a replica).
   */
  killOwnerOf?(key: string): Promise<() => Promise<void>>;
}

interface Value {
  id: number;
  epoch: number;
}
interface Counts {
  hits: number;
  l1Hits: number;
  misses: number;
  errors: number;
}
interface TierHealth {
  state: 'ready' | 'connecting' | 'down';
  entries: number;
  flushes: number;
}
type Write = 'miss' | 'refresh' | 'forceRefresh' | 'invalidate' | 'invalidateTags' | 'clear';
type Message =
  | { type: 'ready'; l1: TierHealth | null }
  | { type: 'reply'; seq: number; [field: string]: unknown }
  | { type: 'failed'; seq: number; error: string };

interface Called {
  value: Value;
  stats: Counts;
  l1: TierHealth | null;
}
interface Watched {
  reads: number;
  old: number;
  done: boolean;
  stats: Counts;
}
interface Spun {
  staleAfter: number;
  reads: number;
  readsAfter: number;
  reached: boolean;
  states: string[];
  flushes: number | null;
  stats: Counts;
}

/** One app process, and requests to it answered by `seq`. */
class App {
  readonly child: Child<Message>;
  /** The ids of this process's tracking connections, per master (index into `topology.masters()`). */
  tracking: Array<{ master: number; id: string }> = [];
  #seq = 0;
  readonly #replies = new Map<number, { resolve(message: Record<string, unknown>): void; reject(error: Error): void }>();

  constructor(readonly name: string, env: Record<string, string>) {
    this.child = new Child<Message>(script, env, (message) => {
      if (message.type === 'ready') return;
      const waiter = this.#replies.get(message.seq);
      this.#replies.delete(message.seq);
      if (message.type === 'failed') waiter?.reject(new Error(`${name} failed: ${message.error}`));
      else waiter?.resolve(message);
    });
    this.child.process.on('exit', () => {
      for (const waiter of this.#replies.values()) waiter.reject(new Error(`${name} exited\n${this.child.stderr}`));
    });
  }

  ask<T>(request: Record<string, unknown>): Promise<T> {
    const seq = ++this.#seq;
    const reply = new Promise<T>((resolve, reject) =>
      this.#replies.set(seq, { resolve: (message) => resolve(message as T), reject }),
    );
    this.child.process.send({ ...request, seq });
    return reply;
  }

  setEpoch = (epoch: number): Promise<unknown> => this.ask({ type: 'epoch', epoch });
  call = (id: number, options?: Record<string, unknown>): Promise<Called> => this.ask({ type: 'call', id, options });
  /** Resolves to this process's clock (`performance.timeOrigin + now()`) when the write resolved. */
  write = async (op: Write, id: number): Promise<number> =>
    (await this.ask<{ at: number }>({ type: 'write', op, id, tags: [`item:${id}`] })).at;
  health = async (): Promise<TierHealth | null> => (await this.ask<{ l1: TierHealth | null }>({ type: 'health' })).l1;
  watch = (id: number, epoch: number): Promise<Watched> => this.ask({ type: 'watch', id, epoch, limit: WATCH_LIMIT });
  spin = (id: number): Promise<unknown> => this.ask({ type: 'spin', id });
  until = (epoch: number, after: number): Promise<Spun> => this.ask({ type: 'until', epoch, after, limit: SPIN_AFTER, bound: SPIN_BOUND });
}

/** `CLIENT LIST` of one node: the ids of the connections named `name`. */
async function connectionsNamed(node: NodeClient, name: string): Promise<string[]> {
  const list = String(await node.sendCommand(['CLIENT', 'LIST']));
  return list
    .split('\n')
    .filter((line) => line.includes(` name=${name} `))
    .map((line) => /^id=(\d+)/.exec(line)?.[1] ?? '')
    .filter((id) => id !== '');
}

/**
 * The tests, on the topology `topology()` returns (started by the test file's `beforeAll`, which must
 * also build the package: `ensureBuilt()`). `name` labels the describe blocks and the figures.
 */
export function coherenceSuite(name: string, topology: () => CoherenceTopology): void {
  describe(`the tier on ${name}, across 3 processes`, () => {
    const apps: App[] = [];

    beforeEach(async () => {
      await topology().flushAll();
    });
    afterEach(async () => {
      await Promise.all(apps.splice(0).map((app) => app.child.kill()));
    });

    /**
     * Start 3 app processes one after the other, each ready (tier ready), and note which tracking
     * connections each one opened: the ones that appeared while it started.
     */
    async function start(): Promise<[App, App, App]> {
      const started: App[] = [];
      for (const label of ['A', 'B', 'C']) {
        const before = await Promise.all(topology().masters().map((node) => connectionsNamed(node, TRACKING_NAME)));
        const app = new App(label, { COH_STORE: JSON.stringify(topology().store()) });
        apps.push(app);
        const ready = await app.child.next('ready');
        expect(ready.l1).toMatchObject({ state: 'ready' });
        const after = await Promise.all(topology().masters().map((node) => connectionsNamed(node, TRACKING_NAME)));
        app.tracking = after.flatMap((ids, master) => ids.filter((id) => !before[master]!.includes(id)).map((id) => ({ master, id })));
        expect(app.tracking.length).toBeGreaterThan(0);
        started.push(app);
      }
      return started as [App, App, App];
    }

    const setEpoch = async (epoch: number): Promise<void> => void (await Promise.all(apps.map((app) => app.setEpoch(epoch))));

    /**
     * Have `reader` serve `id` from its tier, every answer `epoch`: calls until one is a tier hit
     * (bounded). Usually the second is; the first can be voided when the invalidation of the write
     * that stored the entry reaches the reader after its read began (the tier then keeps nothing).
     */
    async function serveFromTier(reader: App, id: number, epoch: number): Promise<Called> {
      const first = await reader.call(id);
      expect([reader.name, first.value.epoch]).toEqual([reader.name, epoch]);
      for (let i = 0; i < 100; i++) {
        const next = await reader.call(id);
        expect([reader.name, next.value.epoch]).toEqual([reader.name, epoch]);
        if (next.stats.l1Hits > first.stats.l1Hits) {
          expect(next.stats.l1Hits - first.stats.l1Hits).toBe(1);
          return next;
        }
      }
      throw new Error(`${reader.name} never served ${id} from its tier in 100 calls`);
    }

    const writes: Write[] = ['miss', 'refresh', 'forceRefresh', 'invalidate', 'invalidateTags', 'clear'];

    it('drops the other processes\' tier copies on every kind of write: a miss\'s write, refresh, forceRefresh, invalidate, invalidateTags, clear', async () => {
      const all = await start();
      let epoch = 0;
      for (const [i, op] of writes.entries()) {
        const id = 100 + i;
        // Each process writes in turn; the two others read.
        const writer = all[i % 3]!;
        const readers = all.filter((app) => app !== writer);
        await writer.call(id);
        for (const reader of readers) await serveFromTier(reader, id, epoch);

        epoch++;
        await setEpoch(epoch);
        await writer.write(op, id);
        for (const reader of readers) {
          const seen = await reader.watch(id, epoch);
          figure(`${name}: ${op} by ${writer.name}: ${reader.name} saw it after ${seen.reads} calls (${seen.old} old answers, 1 ms apart)`);
          expect([op, reader.name, seen.done]).toEqual([op, reader.name, true]);
          expect(seen.stats.errors).toBe(0);
        }
        // The writer serves its own write (its own copy is never stale).
        expect((await writer.call(id)).value.epoch).toBe(epoch);
      }
    }, TEST_MS);

    it('keeps serving tier hits while nothing is written, and counts them as hits', async () => {
      const [a, b] = await start();
      await a.call(7);
      const first = await serveFromTier(b, 7, 0);
      let last = first;
      for (let i = 0; i < 50; i++) last = await b.call(7);
      expect(last.stats.l1Hits - first.stats.l1Hits).toBe(50);
      expect(last.stats.hits - first.stats.hits).toBe(50);
      expect(last.stats.misses).toBe(first.stats.misses);
      expect(last.l1?.entries).toBeGreaterThanOrEqual(1);
    }, TEST_MS);

    it('serves 0 old values after its tracking connection is killed and another process writes; the tier goes down, is flushed, and comes back', async () => {
      const [a, b, c] = await start();
      const id = 200;
      await a.call(id);
      await serveFromTier(b, id, 0);
      await serveFromTier(c, id, 0);
      const flushesBefore = (await b.health())!.flushes;

      await b.spin(id);
      await c.spin(id);
      for (const { master, id: client } of b.tracking) {
        expect(await topology().masters()[master]!.sendCommand(['CLIENT', 'KILL', 'ID', client])).toBe(1);
      }
      await setEpoch(1);
      const at = await a.write('refresh', id);
      const [inB, inC] = await Promise.all([b.until(1, at), c.until(1, at)]);
      figure(
        `${name}: tracking of B killed, refresh by A: B ${inB.readsAfter} calls after the write, ${inB.staleAfter} old, states ${inB.states.join('>')}; ` +
          `C (not killed) ${inC.readsAfter} calls after, ${inC.staleAfter} old`,
      );
      expect([inB.reached, inC.reached]).toEqual([true, true]);
      expect(inB.staleAfter).toBe(0);
      expect(inC.staleAfter).toBe(0);
      // B's tier went down (bypassed) and came back ready, flushed on the way; C's never left ready.
      expect(inB.states[0]).toBe('ready');
      expect(inB.states.some((state) => state !== 'ready')).toBe(true);
      expect(inB.states.at(-1)).toBe('ready');
      expect(inB.flushes).toBeGreaterThan(flushesBefore);
      expect(inC.states).toEqual(['ready']);

      // B reconnected its tracking: it serves from its tier again, and sees the next write.
      await serveFromTier(b, id, 1);
      await setEpoch(2);
      await c.write('forceRefresh', id);
      const seen = await b.watch(id, 2);
      expect(seen.done).toBe(true);
    }, TEST_MS);

    if (topology().killOwnerOf !== undefined) {
      it('serves 0 old values after the master of the entry dies and a replica takes over', async () => {
        const [a, b, c] = await start();
        const id = 300;
        await a.call(id);
        await serveFromTier(b, id, 0);
        await serveFromTier(c, id, 0);
        const flushesBefore = await Promise.all([b.health(), c.health()]);

        await b.spin(id);
        await c.spin(id);
        const restore = await topology().killOwnerOf!(`coh:item:${id}`);
        try {
          await setEpoch(1);
          // The writer's cluster client finds the new master by itself; until it has, a write fails open
          // (the call answers, the write is lost): repeat until the entry in Redis holds the new epoch.
          let at = 0;
          await waitFor(
            'A\'s write to reach the new master',
            async () => {
              at = await a.write('refresh', id);
              const stored = (await (await topology().ownerOf(`coh:item:${id}`)).sendCommand(['GET', `coh:item:${id}`])) as string | null;
              return stored?.includes('"epoch":1') === true;
            },
            30_000,
            100,
          );
          const [inB, inC] = await Promise.all([b.until(1, at), c.until(1, at)]);
          figure(`${name}: master killed, refresh by A after failover: B ${inB.readsAfter} calls after, ${inB.staleAfter} old, states ${inB.states.join('>')}; C ${inC.readsAfter} after, ${inC.staleAfter} old, states ${inC.states.join('>')}`);
          for (const [seen, before] of [[inB, flushesBefore[0]!], [inC, flushesBefore[1]!]] as const) {
            expect(seen.reached).toBe(true);
            expect(seen.staleAfter).toBe(0);
            expect(seen.states.at(-1)).toBe('ready');
            expect(seen.flushes).toBeGreaterThan(before.flushes);
          }
          await serveFromTier(b, id, 1);
        } finally {
          await restore();
        }
      }, TEST_MS * 2);
    }
  });
}
