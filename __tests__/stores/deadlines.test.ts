import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Deadlines } from '../../lib/stores/deadlines.js';
import { deferred } from '../helpers/deferred.js';

/** Time is jest's fake timers: moved by the test, never slept (setImmediate stays real for the shared setup). */
beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
});
afterEach(() => {
  jest.useRealTimers();
});

class Expired extends Error {
  override name = 'Expired';
}

/** Track how a promise settled, without leaving a rejection unhandled. */
function track<T>(promise: Promise<T>): { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } {
  const outcome: { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } = { state: 'pending' };
  promise.then(
    (value) => Object.assign(outcome, { state: 'resolved', value }),
    (error: unknown) => Object.assign(outcome, { state: 'rejected', error }),
  );
  return outcome;
}

describe('Deadlines', () => {
  it('settles like the operation when it answers in time, mapping the value', async () => {
    const deadlines = new Deadlines(100, () => new Expired());
    const op = deferred<number>();
    const outcome = track(deadlines.watch(op.promise, (n) => n * 2));
    await jest.advanceTimersByTimeAsync(50);
    op.resolve(21);
    await jest.advanceTimersByTimeAsync(0);
    expect(outcome).toEqual({ state: 'resolved', value: 42 });
    expect(deadlines.pending).toBe(0);
  });

  it('passes an operation failure through mapError', async () => {
    const deadlines = new Deadlines(100, () => new Expired());
    const op = deferred<number>();
    const outcome = track(deadlines.watch(op.promise, undefined, (e) => new Error(`wrapped ${(e as Error).message}`)));
    op.reject(new Error('refused'));
    await jest.advanceTimersByTimeAsync(0);
    expect(outcome.state).toBe('rejected');
    expect((outcome.error as Error).message).toBe('wrapped refused');
  });

  it('rejects with a throwing map', async () => {
    const deadlines = new Deadlines(100, () => new Expired());
    const outcome = track(
      deadlines.watch(Promise.resolve(1), () => {
        throw new TypeError('bad reply');
      }),
    );
    await jest.advanceTimersByTimeAsync(0);
    expect(outcome.state).toBe('rejected');
    expect(outcome.error).toBeInstanceOf(TypeError);
  });

  it('rejects with makeError between 1x and 1.25x the timeout, not before', async () => {
    const deadlines = new Deadlines(100, () => new Expired());
    const outcome = track(deadlines.watch(deferred<number>().promise));
    await jest.advanceTimersByTimeAsync(99);
    expect(outcome.state).toBe('pending');
    expect(deadlines.pending).toBe(1);
    await jest.advanceTimersByTimeAsync(26);
    expect(outcome.state).toBe('rejected');
    expect(outcome.error).toBeInstanceOf(Expired);
    expect(deadlines.pending).toBe(0);
  });

  it.each([1, 3, 7, 100, 102, 500, 1001])('never rejects an operation before %i ms, wherever it starts within a tick', async (timeoutMs) => {
    const deadlines = new Deadlines(timeoutMs, () => new Expired());
    const period = Math.max(1, Math.floor(timeoutMs / 4));
    // One operation keeps the shared timer running, so later ones start between two of its ticks.
    track(deadlines.watch(deferred<number>().promise));
    for (const offset of new Set([0, 1, period - 1].filter((o) => o >= 0 && o < period))) {
      await jest.advanceTimersByTimeAsync(offset);
      const outcome = track(deadlines.watch(deferred<number>().promise));
      await jest.advanceTimersByTimeAsync(timeoutMs - 1);
      expect({ offset, state: outcome.state }).toEqual({ offset, state: 'pending' });
      await jest.advanceTimersByTimeAsync(1 + 2 * period);
      expect({ offset, state: outcome.state }).toEqual({ offset, state: 'rejected' });
      track(deadlines.watch(deferred<number>().promise)); // keep the timer for the next offset
    }
  });

  it('ignores a late reply and swallows a late failure', async () => {
    const deadlines = new Deadlines(100, () => new Expired());
    const late = deferred<number>();
    const failing = deferred<number>();
    const first = track(deadlines.watch(late.promise));
    const second = track(deadlines.watch(failing.promise));
    await jest.advanceTimersByTimeAsync(125);
    late.resolve(1);
    failing.reject(new Error('late failure'));
    await jest.advanceTimersByTimeAsync(0);
    expect(first.error).toBeInstanceOf(Expired);
    expect(second.error).toBeInstanceOf(Expired);
  });

  it('times out a stuck operation while later ones answer', async () => {
    const deadlines = new Deadlines(100, () => new Expired());
    const stuck = track(deadlines.watch(deferred<number>().promise));
    const quick = track(deadlines.watch(Promise.resolve(2)));
    await jest.advanceTimersByTimeAsync(0);
    expect(quick).toEqual({ state: 'resolved', value: 2 });
    await jest.advanceTimersByTimeAsync(125);
    expect(stuck.state).toBe('rejected');
  });

  it('runs its timer only while operations are pending', async () => {
    const deadlines = new Deadlines(100, () => new Expired());
    expect(jest.getTimerCount()).toBe(0);
    const op = deferred<number>();
    track(deadlines.watch(op.promise));
    expect(jest.getTimerCount()).toBe(1);
    op.resolve(1);
    await jest.advanceTimersByTimeAsync(25);
    expect(jest.getTimerCount()).toBe(0);
    track(deadlines.watch(deferred<number>().promise));
    expect(jest.getTimerCount()).toBe(1);
    await jest.advanceTimersByTimeAsync(150);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('stops timing out after stop()', async () => {
    const deadlines = new Deadlines(100, () => new Expired());
    const outcome = track(deadlines.watch(deferred<number>().promise));
    deadlines.stop();
    await jest.advanceTimersByTimeAsync(1000);
    expect(outcome.state).toBe('pending');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('keeps up with many operations', async () => {
    const deadlines = new Deadlines(100, () => new Expired());
    const outcomes = Array.from({ length: 5000 }, (_, i) => track(deadlines.watch(Promise.resolve(i))));
    await jest.advanceTimersByTimeAsync(0);
    expect(outcomes.every((o, i) => o.state === 'resolved' && o.value === i)).toBe(true);
    expect(deadlines.pending).toBe(0);
  });

  it('reports every outcome once: answers, mapped failures and timeouts, but not late replies', async () => {
    const seen: string[] = [];
    const deadlines = new Deadlines(100, () => new Expired('slow'), {
      succeeded: () => seen.push('ok'),
      failed: (error) => seen.push(`failed ${(error as Error).message}`),
    });
    const answered = deferred<number>();
    const refused = deferred<number>();
    const stuck = deferred<number>();
    track(deadlines.watch(answered.promise));
    track(deadlines.watch(refused.promise, undefined, (e) => new Error(`mapped ${(e as Error).message}`)));
    track(deadlines.watch(stuck.promise));
    answered.resolve(1);
    refused.reject(new Error('refused'));
    await jest.advanceTimersByTimeAsync(125);
    stuck.resolve(3); // too late: already reported as a timeout
    await jest.advanceTimersByTimeAsync(0);
    expect(seen).toEqual(['ok', 'failed mapped refused', 'failed slow']);
  });
});
