// A free TCP port on 127.0.0.1, for the redis-servers the benchmark starts (bench/run.mjs, bench/l1-latency.mjs).
import net from 'node:net';

/** A port nothing listens on now: the kernel picks it for a probe server, which then closes. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}
