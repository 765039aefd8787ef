/**
 * The cross-process lock with real processes: Node children (__tests__/helpers/lock-child.mjs) run the
 * built package against one redis-server, and count their origin runs with INCR on it. Counts and
 * states only, never times.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { ensureBuilt } from '../helpers/build.js';
import { Child } from '../helpers/child-process.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';

const script = join(__dirname, '..', 'helpers', 'lock-child.mjs');

interface Done {
  type: 'done';
  values: Record<string, number>;
  errors: string[];
  stats: Record<string, number>;
}

type Message = { type: 'ready' } | { type: 'waiting' } | { type: 'computing'; run: number } | Done;

let redis: TestRedis;
const children: Array<Child<Message>> = [];

beforeAll(async () => {
  await ensureBuilt();
  redis = await startRedis();
}, 180_000);
afterAll(async () => {
  await redis.stop();
});
beforeEach(async () => {
  await redis.admin.flushAll();
});
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.kill()));
});

function spawn(env: Record<string, string> = {}): Child<Message> {
  const child = new Child<Message>(script, { LOCK_REDIS_URL: redis.url, ...env });
  children.push(child);
  return child;
}

const dataKey = 'mp:getReport:42';
const lockKey = `${dataKey}|lock`;

describe('the miss lock across real processes', () => {
  it('runs the origin exactly once for 4 processes × 250 concurrent calls on one cold key', async () => {
    // The origin answers only after all four processes have seen their 250 calls miss.
    const group = Array.from({ length: 4 }, () => spawn({ LOCK_CALLS: '250', LOCK_PROCESSES: '4' }));
    await Promise.all(group.map((child) => child.next('ready')));
    for (const child of group) child.send('go');
    const done = await Promise.all(group.map((child) => child.next('done')));

    expect(await redis.admin.get('mp:origin-runs')).toBe('1');
    const values = new Map<string, number>();
    for (const d of done) {
      expect(d.errors).toEqual([]);
      for (const [value, count] of Object.entries(d.values)) values.set(value, (values.get(value) ?? 0) + count);
    }
    expect([...values.values()]).toEqual([1000]); // every call, in every process, got the one value
    const [value] = [...values.keys()];
    expect(JSON.parse(value!)).toMatchObject({ id: 42, run: 1 });
    expect(await redis.admin.exists(lockKey)).toBe(0);

    const total = (name: string): number => done.reduce((sum, d) => sum + (d.stats[name] ?? 0), 0);
    expect(total('misses')).toBe(1000);
    expect(total('coalesced')).toBe(4 * 249); // one lock attempt per process…
    expect(total('lockWaits')).toBe(3); // …and every process but the holder waited for its value
    expect(total('lockTakeovers')).toBe(0);
    expect(total('lockTimeouts')).toBe(0);
    expect(total('errors')).toBe(0);
  }, 60_000);

  it('lets another process complete the call when the lock holder is killed mid-computation', async () => {
    const holder = spawn({ LOCK_CALLS: '10', LOCK_ORIGIN: 'hang', LOCK_TTL_MS: '1000' });
    const survivor = spawn({ LOCK_CALLS: '10', LOCK_TTL_MS: '1000', LOCK_WAIT_MS: '30000' });
    await Promise.all([holder.next('ready'), survivor.next('ready')]);

    holder.send('go');
    expect(await holder.next('computing')).toEqual({ type: 'computing', run: 1 });
    survivor.send('go');
    await survivor.next('waiting');
    const holderToken = await redis.admin.get(lockKey);
    expect(holderToken).not.toBeNull(); // still the holder's lock: the survivor is waiting on it

    await holder.kill();
    const done = await survivor.next('done');

    expect(done.errors).toEqual([]);
    expect(Object.values(done.values)).toEqual([10]);
    const value = JSON.parse(Object.keys(done.values)[0]!);
    expect(value).toEqual({ id: 42, run: 2, pid: survivor.process.pid });
    expect(await redis.admin.get('mp:origin-runs')).toBe('2'); // the killed run and the survivor's
    expect(done.stats).toMatchObject({ lockWaits: 1, lockTakeovers: 1, lockTimeouts: 0, errors: 0 });
    expect(await redis.admin.get(dataKey)).toContain(JSON.stringify(value)); // the entry holds the survivor's value
    expect(await redis.admin.exists(lockKey)).toBe(0);
  }, 60_000);
});
