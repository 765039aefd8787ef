/**
 * The Redis store's operation deadline, end to end: an operation on a frozen redis-server (SIGSTOP)
 * is not timed out before `opTimeoutMs`, and is by 1.25× it plus one tick. Only the deadline's
 * interval timer is faked (connections and sockets keep real time), so nothing sleeps.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { RedisStore } from '../../lib/stores/redis.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';

let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(() => {
  jest.useRealTimers();
});

/** Fake only setInterval/clearInterval: what the store's deadlines run on. */
function fakeIntervalsOnly(): void {
  jest.useFakeTimers({
    doNotFake: ['Date', 'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout'],
  });
}

function track(promise: Promise<unknown>): { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } {
  const outcome: { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { state: 'pending' };
  promise.then(
    () => (outcome.state = 'resolved'),
    (error: unknown) => Object.assign(outcome, { state: 'rejected', error }),
  );
  return outcome;
}

describe('RedisStore operation deadline', () => {
  it.each([400, 1000])('does not time out an operation on a frozen server before opTimeoutMs (%i ms), and does soon after', async (opTimeoutMs) => {
    fakeIntervalsOnly();
    const store = new RedisStore({ url: redis.url, opTimeoutMs, breaker: false });
    try {
      await store.set('deadline', 'v', 60_000); // connected, answered
      // The deadline timer ticks every opTimeoutMs / 4: start the next operation just before a tick.
      await jest.advanceTimersByTimeAsync(opTimeoutMs / 4 - 1);
      redis.freeze();
      const read = track(store.get('deadline'));
      await jest.advanceTimersByTimeAsync(opTimeoutMs - 1);
      expect(read.state).toBe('pending');
      await jest.advanceTimersByTimeAsync(opTimeoutMs / 4 + opTimeoutMs / 4 + 1);
      expect(read.state).toBe('rejected');
      expect(read.error).toMatchObject({ name: 'CacheTimeoutError' });
    } finally {
      redis.thaw();
      jest.useRealTimers();
      await store.close();
    }
  });
});
