/**
 * The Redis key watch behind the in-process tier: one dedicated RESP3 connection per master (named
 * `cachette-l1`) with `CLIENT TRACKING ON BCAST PREFIX <prefix> NOLOOP`, so Redis announces every
 * change of a key under the prefix (writes, deletes, expiries, evictions, `FLUSHALL`), made by any
 * client, without this process having to read the key first.
 *
 * Every `intervalMs` it checks the topology (a cluster's masters, Sentinel's primary) and asks each
 * tracked node its `ROLE`: a node that stopped being a master (it no longer sees the writes) or that
 * does not answer within two intervals counts as lost, like a dropped connection. The watch is
 * `'ready'` only while every current master has a tracking connection that is up; any loss makes it
 * leave `'ready'` at once (the tier empties itself then).
 * @module
 */
import { CacheUnavailableError } from '../errors.js';
import type { KeyWatch, KeyWatchListener, KeyWatchState } from './store.js';

/** The node-redis client calls a tracking connection needs. */
export interface TrackingClient {
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  sendCommand(args: string[]): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  destroy(): void;
}

/** How the watch reaches the nodes: supplied by the Redis store for its topology. */
export interface WatchTopology {
  /** The `host:port` of every master now; `undefined` while the topology is not known yet. */
  masters(): string[] | undefined;
  /** The master serving `key` now. */
  masterOf(key: string): string | undefined;
  /** A new, unconnected RESP3 client with `emitInvalidate` for the node at `address`. */
  open(address: string): TrackingClient;
}

interface Tracked {
  readonly address: string;
  readonly client: TrackingClient;
  /** Tracking is on and the connection up. */
  ready: boolean;
  /** A ROLE check was sent at this time and is not answered yet. */
  checkingSince: number | undefined;
}

/** Options of {@link RedisKeyWatch}. */
export interface RedisKeyWatchOptions {
  readonly prefix: string;
  readonly listener: KeyWatchListener;
  readonly topology: WatchTopology;
  readonly intervalMs: number;
  /** Errors are given without passwords (the store's redactor). */
  readonly redact: (error: unknown) => unknown;
}

export class RedisKeyWatch implements KeyWatch {
  #state: KeyWatchState = 'connecting';
  readonly #nodes = new Map<string, Tracked>();
  /** Addresses whose failure was reported since they last tracked: one line per outage, not per reconnect. */
  readonly #reported = new Set<string>();
  readonly #timer: ReturnType<typeof setInterval>;
  #closed = false;

  constructor(private readonly options: RedisKeyWatchOptions) {
    this.#timer = setInterval(() => this.#tick(), options.intervalMs);
    this.#timer.unref?.();
    this.#reconcile();
  }

  get state(): KeyWatchState {
    return this.#state;
  }

  /**
   * `PEXPIRE key ttlMs` (`PERSIST` for `Infinity`) sent on the tracking connection of the key's
   * master: with NOLOOP this process does not hear of its own change (its held copy stays), the
   * others drop theirs. Resolves `false` when the key is gone.
   */
  async expire(key: string, ttlMs: number): Promise<boolean> {
    const address = this.options.topology.masterOf(key);
    const node = address === undefined ? undefined : this.#nodes.get(address);
    if (node === undefined || !node.ready) throw new CacheUnavailableError('cachette: the tier\'s tracking connection is not ready', 'redis');
    const args = ttlMs === Infinity ? ['PERSIST', key] : ['PEXPIRE', key, String(Math.max(1, Math.ceil(ttlMs)))];
    const reply = await node.client.sendCommand(args);
    // PERSIST answers 0 for a key without expiry: check it exists then.
    if (ttlMs === Infinity && Number(reply) === 0) return Number(await node.client.sendCommand(['EXISTS', key])) === 1;
    return Number(reply) === 1;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const node of this.#nodes.values()) node.client.destroy();
    this.#nodes.clear();
    this.#setState('down');
  }

  #tick(): void {
    if (this.#closed) return;
    this.#reconcile();
    const now = Date.now();
    for (const node of this.#nodes.values()) {
      if (!node.ready) continue;
      if (node.checkingSince !== undefined) {
        if (now - node.checkingSince > 2 * this.options.intervalMs) this.#lose(node, new Error('the tracking connection did not answer ROLE in time'));
        continue;
      }
      node.checkingSince = now;
      node.client.sendCommand(['ROLE']).then(
        (reply) => {
          node.checkingSince = undefined;
          const role = Array.isArray(reply) ? String(reply[0]) : '';
          if (role !== 'master') this.#lose(node, new Error(`the tracked node is now a ${role || 'non-master'}; its changes are no longer announced`));
        },
        (error: unknown) => this.#lose(node, error),
      );
    }
  }

  /** Open tracking connections to new masters, close those to nodes that are no longer masters. */
  #reconcile(): void {
    if (this.#closed) return;
    let wanted: string[] | undefined;
    try {
      wanted = this.options.topology.masters();
    } catch {
      wanted = undefined;
    }
    if (wanted === undefined || wanted.length === 0) {
      this.#update(undefined);
      return;
    }
    for (const address of wanted) if (!this.#nodes.has(address)) this.#open(address);
    for (const [address, node] of this.#nodes) {
      if (wanted.includes(address)) continue;
      this.#nodes.delete(address);
      node.client.destroy();
    }
    this.#update(wanted);
  }

  #open(address: string): void {
    let client: TrackingClient;
    try {
      client = this.options.topology.open(address);
    } catch (error) {
      if (!this.#reported.has(address)) {
        this.#reported.add(address);
        this.#report(error);
      }
      return;
    }
    const node: Tracked = { address, client, ready: false, checkingSince: undefined };
    this.#nodes.set(address, node);
    const listener = this.options.listener;
    client.on('invalidate', (key: unknown) => {
      if (this.#nodes.get(address) === node) listener.changed(key === null || key === undefined ? null : String(key));
    });
    client.on('error', (error: unknown) => this.#down(node, error));
    client.on('end', () => this.#down(node, undefined));
    client.on('reconnecting', () => this.#down(node, undefined));
    client.on('ready', () => this.#track(node));
    client.connect().catch(() => undefined); // failures arrive as 'error' events
  }

  /** Switch the connection's tracking to broadcast mode for the prefix (again after each reconnect). */
  #track(node: Tracked): void {
    const prefix = this.options.prefix;
    const on = ['CLIENT', 'TRACKING', 'ON', 'BCAST', ...(prefix === '' ? [] : ['PREFIX', prefix]), 'NOLOOP'];
    node.client
      .sendCommand(['CLIENT', 'TRACKING', 'OFF'])
      .then(() => node.client.sendCommand(on))
      .then(
        () => {
          if (this.#nodes.get(node.address) !== node || !node.client.isReady) return;
          node.ready = true;
          this.#reported.delete(node.address);
          this.#update(this.options.topology.masters());
        },
        (error: unknown) => this.#lose(node, error),
      );
  }

  /** The connection dropped or failed: changes may be missed from now until it is tracking again. */
  #down(node: Tracked, error: unknown): void {
    node.checkingSince = undefined;
    const was = node.ready;
    node.ready = false;
    if (error !== undefined && !this.#reported.has(node.address)) {
      this.#reported.add(node.address);
      this.#report(error);
    }
    if (was) this.#update(this.options.topology.masters());
  }

  /** Drop the connection for good (the next check opens a new one if the node is still a master). */
  #lose(node: Tracked, error: unknown): void {
    this.#down(node, error);
    if (this.#nodes.get(node.address) === node) this.#nodes.delete(node.address);
    node.client.destroy();
    this.#update(this.options.topology.masters());
  }

  #update(wanted: string[] | undefined): void {
    if (this.#closed) return;
    const ready = wanted !== undefined && wanted.length > 0 && wanted.every((address) => this.#nodes.get(address)?.ready === true);
    this.#setState(ready ? 'ready' : this.#state === 'connecting' ? 'connecting' : 'down');
  }

  #setState(state: KeyWatchState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.options.listener.state(state);
  }

  #report(error: unknown): void {
    this.options.listener.error(this.options.redact(error));
  }
}
