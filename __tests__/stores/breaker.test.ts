/**
 * The circuit breaker's state machine on a clock moved by hand: states and counts, no sleeping.
 */
import { describe, expect, it } from '@jest/globals';
import { CacheStoreError, CacheUnavailableError } from '../../lib/errors.js';
import { DEFAULT_BREAKER_COOLDOWN_MS, DEFAULT_BREAKER_THRESHOLD } from '../../lib/defaults.js';
import { CircuitBreaker, type BreakerOptions } from '../../lib/stores/breaker.js';
import { fakeClock, type FakeClock } from '../helpers/fake-clock.js';

const outage = (n = 1): Error => new CacheStoreError(`connection lost ${n}`, 'redis');
class Refusal extends Error {}

function breaker(options: BreakerOptions = {}): { breaker: CircuitBreaker; clock: FakeClock } {
  const clock = fakeClock();
  return { breaker: new CircuitBreaker('redis', { threshold: 3, cooldownMs: 1000, clock, ...options }), clock };
}

function failTimes(b: CircuitBreaker, times: number): void {
  for (let i = 1; i <= times; i++) b.failed(outage(i));
}

describe('CircuitBreaker', () => {
  it('defaults to 5 consecutive failures and a 2 s cool-down', () => {
    expect(DEFAULT_BREAKER_THRESHOLD).toBe(5);
    expect(DEFAULT_BREAKER_COOLDOWN_MS).toBe(2000);
    const clock = fakeClock();
    const b = new CircuitBreaker('redis', { clock });
    failTimes(b, 4);
    expect(b.closed).toBe(true);
    b.failed(outage());
    expect(b.state).toBe('open');
    clock.advance(1999);
    expect(b.admit()).toBeInstanceOf(CacheUnavailableError);
    clock.advance(1);
    expect(b.admit()).toBeUndefined();
    expect(b.state).toBe('half-open');
  });

  it('starts closed, lets operations through and reports zero counts', () => {
    const { breaker: b } = breaker();
    expect(b.closed).toBe(true);
    expect(b.admit()).toBeUndefined();
    expect(b.health()).toEqual({ store: 'redis', state: 'closed', consecutiveFailures: 0, opens: 0 });
  });

  it('opens after the threshold of consecutive failures and skips with one CacheUnavailableError', () => {
    const { breaker: b, clock } = breaker();
    failTimes(b, 2);
    expect(b.health()).toMatchObject({ state: 'closed', consecutiveFailures: 2 });
    b.failed(outage(3));
    expect(b.closed).toBe(false);
    expect(b.health()).toEqual({ store: 'redis', state: 'open', consecutiveFailures: 3, opens: 1, openedAt: clock.now() });
    const skipped = b.admit();
    expect(skipped).toBeInstanceOf(CacheUnavailableError);
    expect(skipped).toBeInstanceOf(CacheStoreError);
    expect(skipped).toMatchObject({ store: 'redis', code: 'CACHE_ERR_UNAVAILABLE' });
    expect((skipped as Error).cause).toEqual(outage(3));
    expect(b.admit()).toBe(skipped); // made once per opening, not per skipped operation
  });

  it('starts counting again after a success', () => {
    const { breaker: b } = breaker();
    failTimes(b, 2);
    b.succeeded();
    expect(b.health().consecutiveFailures).toBe(0);
    failTimes(b, 2);
    expect(b.state).toBe('closed');
  });

  it('treats an error that is not an outage as a sign of life: it resets the count and never opens', () => {
    const { breaker: b } = breaker({ isOutage: (error) => !(error instanceof Refusal) });
    failTimes(b, 2);
    b.failed(new Refusal('OOM command not allowed'));
    expect(b.health().consecutiveFailures).toBe(0);
    for (let i = 0; i < 10; i++) b.failed(new Refusal('READONLY'));
    expect(b.health()).toMatchObject({ state: 'closed', consecutiveFailures: 0, opens: 0 });
  });

  it('skips until the cool-down has passed, then lets exactly one probe through', () => {
    const { breaker: b, clock } = breaker();
    failTimes(b, 3);
    clock.advance(999);
    expect(b.admit()).toBeInstanceOf(CacheUnavailableError);
    expect(b.state).toBe('open');
    clock.advance(1);
    expect(b.admit()).toBeUndefined();
    expect(b.state).toBe('half-open');
    expect(b.closed).toBe(false);
    expect(b.admit()).toBeInstanceOf(CacheUnavailableError);
    expect(b.admit()).toBeInstanceOf(CacheUnavailableError);
  });

  it('closes when the probe succeeds', () => {
    const { breaker: b, clock } = breaker();
    failTimes(b, 3);
    clock.advance(1000);
    b.admit();
    b.succeeded();
    expect(b.closed).toBe(true);
    expect(b.health()).toEqual({ store: 'redis', state: 'closed', consecutiveFailures: 0, opens: 1 });
    expect(b.admit()).toBeUndefined();
  });

  it('closes when the probe meets a refusal: the store answered', () => {
    const { breaker: b, clock } = breaker({ isOutage: (error) => !(error instanceof Refusal) });
    failTimes(b, 3);
    clock.advance(1000);
    b.admit();
    b.failed(new Refusal('READONLY'));
    expect(b.state).toBe('closed');
  });

  it('opens again for a full cool-down when the probe fails', () => {
    const { breaker: b, clock } = breaker();
    failTimes(b, 3);
    clock.advance(1500);
    expect(b.admit()).toBeUndefined();
    b.failed(outage(4));
    expect(b.health()).toEqual({ store: 'redis', state: 'open', consecutiveFailures: 4, opens: 2, openedAt: clock.now() });
    const skipped = b.admit();
    expect((skipped as Error).cause).toEqual(outage(4));
    clock.advance(999);
    expect(b.admit()).toBeInstanceOf(CacheUnavailableError);
    clock.advance(1);
    expect(b.admit()).toBeUndefined();
  });

  it('ignores outcomes of operations sent before it opened', () => {
    const { breaker: b, clock } = breaker();
    failTimes(b, 3);
    const openedAt = clock.now();
    clock.advance(10);
    b.succeeded(); // a late answer: the probe decides, not operations sent before opening
    b.failed(outage());
    expect(b.health()).toMatchObject({ state: 'open', opens: 1, openedAt });
  });

  it('lets another probe through when the first never reports back within a cool-down', () => {
    const { breaker: b, clock } = breaker();
    failTimes(b, 3);
    clock.advance(1000);
    expect(b.admit()).toBeUndefined();
    clock.advance(999);
    expect(b.admit()).toBeInstanceOf(CacheUnavailableError);
    clock.advance(1);
    expect(b.admit()).toBeUndefined();
    expect(b.state).toBe('half-open');
  });

  it('never opens with an infinite threshold, but still counts failures', () => {
    const { breaker: b } = breaker({ threshold: Infinity });
    failTimes(b, 1000);
    expect(b.health()).toEqual({ store: 'redis', state: 'closed', consecutiveFailures: 1000, opens: 0 });
    expect(b.admit()).toBeUndefined();
  });

  it('tells onOpen each time it opens, with the failure that opened it', () => {
    const calls: Array<[unknown, unknown]> = [];
    const { breaker: b, clock } = breaker({ onOpen: (health, error) => calls.push([health, error]) });
    failTimes(b, 3);
    clock.advance(1000);
    b.admit();
    b.failed(outage(9));
    expect(calls).toEqual([
      [{ store: 'redis', state: 'open', consecutiveFailures: 3, opens: 1, openedAt: clock.now() - 1000 }, outage(3)],
      [{ store: 'redis', state: 'open', consecutiveFailures: 4, opens: 2, openedAt: clock.now() }, outage(9)],
    ]);
  });

  it('opens even when onOpen throws', () => {
    const { breaker: b } = breaker({
      onOpen: () => {
        throw new Error('listener failed');
      },
    });
    expect(() => failTimes(b, 3)).not.toThrow();
    expect(b.state).toBe('open');
  });
});
