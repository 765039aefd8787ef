/**
 * A TCP proxy in front of a real redis-server, to order what a client and the server see: on chosen
 * connections, the server's replies (or the client's requests) can be held and released later, in
 * order; everything else goes through at once. Not a mock: a real server answers every command.
 *
 * A connection is told apart by what its client sent: `named(name)` is true once the client has sent
 * the bytes of `name` (as in `HELLO 3 SETNAME cachette-l1` or `CLIENT SETNAME cachette-l1`).
 *
 * ```ts
 * const proxy = await startProxy(redis.port);
 * proxy.hold((conn) => !conn.named('cachette-l1')); // hold the replies of every data connection
 * // … a GET is answered by the server but not delivered …
 * proxy.release();                                   // deliver them, in order
 * ```
 */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

/** One proxied connection. */
export interface ProxyConnection {
  /** True once the client has sent `name`'s bytes on this connection. */
  named(name: string): boolean;
  /** Bytes held, not delivered yet (either direction). */
  readonly heldBytes: number;
  /** Server bytes delivered to the client so far. */
  readonly delivered: number;
  /** The first 64 KiB of them, as latin1 text (to wait for a reply or a push by its content). */
  readonly received: string;
  /** Close both sides (the client sees the server go away). */
  destroy(): void;
}

/** A running proxy. */
export interface TcpProxy {
  readonly port: number;
  readonly url: string;
  readonly connections: readonly ProxyConnection[];
  /**
   * From now on, hold the bytes going one way (`'replies'`: server to client, the default;
   * `'requests'`: client to server) on the connections `which` picks, checked as bytes arrive.
   */
  hold(which: (connection: ProxyConnection) => boolean, direction?: 'replies' | 'requests'): void;
  /** Stop holding, and deliver everything held, in order. */
  release(): void;
  close(): Promise<void>;
}

class Connection implements ProxyConnection {
  sent = '';
  held: Buffer[] = [];
  heldRequests: Buffer[] = [];
  delivered = 0;
  received = '';

  constructor(readonly client: Socket, readonly server: Socket) {}

  named(name: string): boolean {
    return this.sent.includes(name);
  }

  get heldBytes(): number {
    return [...this.held, ...this.heldRequests].reduce((sum, chunk) => sum + chunk.length, 0);
  }

  deliver(chunk: Buffer): void {
    this.delivered += chunk.length;
    if (this.received.length < 65_536) this.received += chunk.toString('latin1');
    this.client.write(chunk);
  }

  flush(): void {
    for (const chunk of this.heldRequests.splice(0)) this.server.write(chunk);
    for (const chunk of this.held.splice(0)) this.deliver(chunk);
  }

  destroy(): void {
    this.client.destroy();
    this.server.destroy();
  }
}

/** Start a proxy on a free 127.0.0.1 port in front of `127.0.0.1:targetPort`. */
export async function startProxy(targetPort: number): Promise<TcpProxy> {
  const connections: Connection[] = [];
  let holding: ((connection: ProxyConnection) => boolean) | undefined;
  let holdingRequests: ((connection: ProxyConnection) => boolean) | undefined;
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    // No Nagle delay on either side: a small push written after a reply would otherwise wait for
    // the reply's ACK, and arrive milliseconds late (an ordering the proxy did not ask for).
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const connection = new Connection(client, upstream);
    connections.push(connection);
    client.on('data', (chunk) => {
      // Only the start matters for names; keep it bounded.
      if (connection.sent.length < 4096) connection.sent += chunk.toString('latin1');
      if (holdingRequests?.(connection) === true || connection.heldRequests.length > 0) connection.heldRequests.push(chunk);
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (holding?.(connection) === true || connection.held.length > 0) connection.held.push(chunk);
      else connection.deliver(chunk);
    });
    const close = (): void => connection.destroy();
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    connections,
    hold(which, direction = 'replies') {
      if (direction === 'replies') holding = which;
      else holdingRequests = which;
    },
    release() {
      holding = undefined;
      holdingRequests = undefined;
      for (const connection of connections) connection.flush();
    },
    async close() {
      for (const connection of connections) connection.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
