// Recipe: an HTTP handler (plain node:http) whose responses say how the cache answered them, in an
// RFC 9211 `Cache-Status` header, with `Age` and an `ETag`.
//
//   npm run build && node examples/recipes/http-cache-status.mjs              memory store, port 3000
//   REDIS_URL=redis://localhost:6379 PORT=8080 node examples/recipes/http-cache-status.mjs
//
//   curl -i localhost:3000/products/1           Cache-Status: cachette; fwd=miss; ttl=300
//   curl -i localhost:3000/products/1           Cache-Status: cachette; hit; ttl=297   Age: 3
//   curl -i 'localhost:3000/products/1?fresh=1' Cache-Status: cachette; fwd=request; ttl=300
//
// PORT=0 lets the system pick a free port; the first line printed says which.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { cacheStatus, cached, createCache } from 'cachette';

const cache = createCache({
  store: process.env.REDIS_URL ? { type: 'redis', url: process.env.REDIS_URL } : { type: 'memory' },
  namespace: 'recipes-http',
});

// The slow part of the response: in an application, a query or a call to another service.
let renders = 0;
const getProduct = cached(
  async function getProduct(id) {
    renders++;
    await sleep(50);
    return { id, name: `Product ${id}`, price: 10 * id, render: renders };
  },
  { cache, ttl: '5m' },
);

async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const match = /^\/products\/(\d+)$/.exec(url.pathname);
  if (req.method !== 'GET' || match === null) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  const id = Number(match[1]);
  // withMeta resolves to { value, status, age, ttl, tier } instead of the bare value. Call options
  // go last, as in a plain call: ?fresh=1 runs the origin and stores its result (forceRefresh).
  const fresh = url.searchParams.get('fresh') === '1';
  const meta = fresh ? await getProduct.withMeta(id, { forceRefresh: true }) : await getProduct.withMeta(id);

  const body = JSON.stringify(meta.value);
  // A strong validator from the bytes sent: the same entry gives the same ETag, whichever process serves it.
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  const headers = {
    'content-type': 'application/json',
    // "cachette; hit; ttl=297", "cachette; fwd=miss; ttl=300", "cachette; fwd=request; ttl=300" …
    'cache-status': cacheStatus(meta),
    etag,
  };
  // Age (RFC 9111): seconds since the value was computed, known for hits and 0 for a fresh origin value.
  if (meta.age !== undefined) headers.age = String(Math.floor(meta.age / 1000));
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers).end();
    return;
  }
  res.writeHead(200, headers).end(body);
}

// An origin that throws becomes a 500. Cache failures never get here: cachette fails open (the
// origin answers) and reports them through the cache's logger.
const server = createServer((req, res) => {
  handle(req, res).catch((error) => {
    console.error(`GET ${req.url}: ${error.message}`);
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('internal error\n');
  });
});

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const { port } = server.address();
  console.log(`listening on http://127.0.0.1:${port} (store: ${process.env.REDIS_URL ? 'redis' : 'memory'})`);
});

// Ctrl-C or a SIGTERM from a process manager: stop accepting requests, then let pending cache writes finish.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    cache.close().then(() => console.log(`stopped after ${renders} renders`));
  });
}
