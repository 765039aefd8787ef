/**
 * The key watch's state machine (`redis-tracking.ts`) with scripted clients: when it says `'ready'`,
 * what makes it leave, and that a failing node is reported once per outage, not once per retry. The
 * real thing (real servers, CLIENT KILL, failovers) is in the integration tests.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { RedisKeyWatch, type TrackingClient } from '../../lib/stores/redis-tracking.js';
import type { KeyWatchState } from '../../lib/stores/store.js';

/** A client whose connection and replies the test scripts. */
class ScriptedClient extends EventEmitter implements TrackingClient {
  isReady = false;
  destroyed = false;
  commands: string[][] = [];
  /** What ROLE answers. */
  role: unknown = ['master', 0, []];
  /** When set, CLIENT TRACKING ON is refused with it. */
  refuseTracking: Error | undefined;
  constructor(readonly address: string) {
    super();
  }
  async connect(): Promise<unknown> {
    return undefined;
  }
  async sendCommand(args: string[]): Promise<unknown> {
    this.commands.push(args);
    if (args[0] === 'ROLE') return this.role;
    if (args[0] === 'CLIENT' && args[2] === 'ON' && this.refuseTracking) throw this.refuseTracking;
    return 'OK';
  }
  destroy(): void {
    this.destroyed = true;
    this.isReady = false;
  }
  up(): void {
    this.isReady = true;
    this.emit('ready');
  }
  drop(error = new Error('Socket closed unexpectedly')): void {
    this.isReady = false;
    this.emit('error', error);
    this.emit('reconnecting');
  }
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

let watch: RedisKeyWatch | undefined;
afterEach(async () => {
  jest.useRealTimers();
  await watch?.close();
  watch = undefined;
});

function start(masters: { list: string[] | undefined }) {
  const clients: ScriptedClient[] = [];
  const states: KeyWatchState[] = [];
  const changed: Array<string | null> = [];
  const errors: unknown[] = [];
  watch = new RedisKeyWatch({
    prefix: 'app',
    intervalMs: 1000,
    redact: (error) => error,
    listener: { changed: (key) => void changed.push(key), state: (state) => void states.push(state), error: (error) => void errors.push(error) },
    topology: {
      masters: () => masters.list,
      masterOf: () => masters.list?.[0],
      open: (address) => {
        const client = new ScriptedClient(address);
        clients.push(client);
        return client;
      },
    },
  });
  const live = (address: string): ScriptedClient => clients.filter((c) => c.address === address && !c.destroyed).at(-1) as ScriptedClient;
  return { clients, states, changed, errors, live, watch };
}

describe('the key watch', () => {
  it('is ready only once every master tracks in broadcast mode under the prefix, with NOLOOP', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    const masters = { list: ['a:1', 'b:2'] as string[] | undefined };
    const { live, states, watch } = start(masters);
    live('a:1').up();
    await flush();
    expect(watch.state).toBe('connecting');
    live('b:2').up();
    await flush();
    expect(watch.state).toBe('ready');
    expect(states).toEqual(['ready']);
    expect(live('a:1').commands).toEqual([
      ['CLIENT', 'TRACKING', 'OFF'],
      ['CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'app', 'NOLOOP'],
    ]);
  });

  it('passes announcements on, and leaves ready at once when one connection drops, until it tracks again', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    const { live, states, changed, errors, watch } = start({ list: ['a:1', 'b:2'] });
    live('a:1').up();
    live('b:2').up();
    await flush();
    live('a:1').emit('invalidate', Buffer.from('app:k'));
    live('b:2').emit('invalidate', null);
    expect(changed).toEqual(['app:k', null]);
    live('b:2').drop();
    expect(watch.state).toBe('down');
    live('b:2').drop(); // reconnect attempts that fail again are not reported again
    expect(errors).toHaveLength(1);
    live('b:2').up();
    await flush();
    expect(watch.state).toBe('ready');
    expect(states).toEqual(['ready', 'down', 'ready']);
  });

  it('treats a tracked node that is no longer a master, or leaves ROLE unanswered, as lost', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    const { live, watch, errors } = start({ list: ['a:1'] });
    const first = live('a:1');
    first.up();
    await flush();
    first.role = ['slave', '127.0.0.1', 7000, 'connected', 0];
    jest.advanceTimersByTime(1000);
    await flush();
    expect(watch.state).toBe('down');
    expect(first.destroyed).toBe(true);
    expect(String(errors[0])).toMatch(/no longer announced/);
    // The next check opens a new connection, which tracks again.
    jest.advanceTimersByTime(1000);
    const second = live('a:1');
    expect(second).not.toBe(first);
    second.up();
    await flush();
    expect(watch.state).toBe('ready');
    // A ROLE that never answers: lost after two more checks.
    second.sendCommand = async (args) => (args[0] === 'ROLE' ? new Promise(() => {}) : 'OK');
    jest.advanceTimersByTime(1000);
    await flush();
    expect(watch.state).toBe('ready');
    jest.advanceTimersByTime(3000);
    await flush();
    expect(watch.state).toBe('down');
  });

  it('follows the topology: a new master makes it leave ready until the new one tracks', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    const masters = { list: ['a:1'] as string[] | undefined };
    const { live, watch } = start(masters);
    live('a:1').up();
    await flush();
    expect(watch.state).toBe('ready');
    masters.list = ['c:3'];
    jest.advanceTimersByTime(1000);
    expect(watch.state).toBe('down');
    live('c:3').up();
    await flush();
    expect(watch.state).toBe('ready');
  });

  it('reports a refused CLIENT TRACKING once, however often it retries', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    const { clients, errors, watch } = start({ list: ['a:1'] });
    for (let i = 0; i < 5; i++) {
      const client = clients.at(-1) as ScriptedClient;
      client.refuseTracking = new Error("ERR unknown command 'CLIENT'");
      client.up();
      await flush();
      jest.advanceTimersByTime(1000);
    }
    expect(clients.length).toBeGreaterThanOrEqual(5);
    expect(errors).toHaveLength(1);
    expect(watch.state).toBe('connecting');
  });

  it('extends through the connection of the key\'s master, and refuses when it is not tracking', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    const { live, watch } = start({ list: ['a:1'] });
    await expect(watch.expire('app:k', 5000)).rejects.toThrow(/not ready/);
    live('a:1').up();
    await flush();
    live('a:1').sendCommand = async (args) => (args[0] === 'PEXPIRE' ? 1 : 'OK');
    await expect(watch.expire('app:k', 5000)).resolves.toBe(true);
  });
});
