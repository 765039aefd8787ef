import { describe, expect, it } from '@jest/globals';
import { FlightRun, Flights } from '../lib/flight.js';
import { deferred, flush } from './helpers/deferred.js';

describe('Flights', () => {
  it('has no flight for a key nobody started', () => {
    const flights = new Flights();
    expect(flights.get('k')).toBeUndefined();
    expect(flights.size).toBe(0);
  });

  it('returns the run it was given and finds it while it is in flight', () => {
    const flights = new Flights();
    const run = deferred<number>();
    expect(flights.start('k', run.promise)).toBe(run.promise);
    expect(flights.get('k')).toBe(run.promise);
    expect(flights.get('other')).toBeUndefined();
    expect(flights.size).toBe(1);
    run.resolve(1);
  });

  it('forgets a run once it resolves', async () => {
    const flights = new Flights();
    const run = deferred<number>();
    flights.start('k', run.promise);
    run.resolve(1);
    await flush();
    expect(flights.get('k')).toBeUndefined();
    expect(flights.size).toBe(0);
  });

  it('forgets a run once it rejects, and still hands the rejection to the caller', async () => {
    const flights = new Flights();
    const run = deferred<number>();
    const error = new Error('origin failed');
    const started = flights.start('k', run.promise);
    run.reject(error);
    await expect(started).rejects.toBe(error);
    await flush();
    expect(flights.get('k')).toBeUndefined();
  });

  it('lets a newer run replace an older one, and keeps the newer one when the older settles', async () => {
    const flights = new Flights();
    const older = deferred<string>();
    const newer = deferred<string>();
    flights.start('k', older.promise);
    flights.start('k', newer.promise);
    expect(flights.get('k')).toBe(newer.promise);
    older.resolve('old');
    await flush();
    expect(flights.get('k')).toBe(newer.promise);
    newer.resolve('new');
    await flush();
    expect(flights.size).toBe(0);
  });

  it('keeps flights of different keys apart', async () => {
    const flights = new Flights();
    const a = deferred<string>();
    const b = deferred<string>();
    flights.start('a', a.promise);
    flights.start('b', b.promise);
    expect(flights.size).toBe(2);
    a.resolve('a');
    await flush();
    expect(flights.get('a')).toBeUndefined();
    expect(flights.get('b')).toBe(b.promise);
    b.resolve('b');
  });
});

describe('retired runs', () => {
  it('are no longer offered to new callers, but may still write until a newer run starts', () => {
    const flights = new Flights();
    const older = new FlightRun();
    older.promise = deferred<string>().promise;
    flights.start('k', older.promise, older);
    older.retire();
    expect(older.joinable).toBe(false);
    expect(flights.runFor('k')).toBeUndefined();
    expect(flights.size).toBe(0);
    expect(flights.isCurrent('k', older.promise)).toBe(true);
    const newer = deferred<string>();
    flights.start('k', newer.promise);
    expect(flights.isCurrent('k', older.promise)).toBe(false);
    expect(flights.retired).toBe(0);
  });

  it('lose the right to write when the key is invalidated', () => {
    const flights = new Flights();
    const run = new FlightRun();
    run.promise = deferred<string>().promise;
    flights.start('k', run.promise, run);
    run.retire();
    flights.abandon('k');
    expect(flights.isCurrent('k', run.promise)).toBe(false);
    expect(flights.retired).toBe(0);
  });

  it('are forgotten once they settle', async () => {
    const flights = new Flights();
    const run = new FlightRun();
    const answer = deferred<string>();
    run.promise = answer.promise;
    flights.start('k', run.promise, run);
    run.retire();
    expect(flights.retired).toBe(1);
    answer.resolve('late');
    await flush();
    expect(flights.retired).toBe(0);
  });

  it('retire when their last caller leaves', () => {
    const flights = new Flights();
    const run = new FlightRun();
    run.promise = deferred<string>().promise;
    flights.start('k', run.promise, run);
    const signal = run.signal;
    run.join();
    run.leave('a');
    expect(flights.runFor('k')).toBe(run);
    run.leave('b');
    expect(signal.aborted).toBe(true);
    expect(flights.runFor('k')).toBeUndefined();
    expect(flights.isCurrent('k', run.promise)).toBe(true);
  });
});
