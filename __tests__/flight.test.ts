import { describe, expect, it } from '@jest/globals';
import { Flights } from '../lib/flight.js';
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
