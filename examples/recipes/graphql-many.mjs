// Recipe: a GraphQL list field without the N+1 problem. An order's `items` resolve through one
// `getProduct.many(...)` call: one read of the cache for all of them (one MGET on Redis), and one
// database query for the misses only.
//
//   npm run build && node examples/recipes/graphql-many.mjs                   memory store
//   REDIS_URL=redis://localhost:6379 node examples/recipes/graphql-many.mjs   Redis
//
// graphql-js executes the schema in this process; the "database" is a Map that logs every query.
import { buildSchema, graphql } from 'graphql';
import { cached, createCache } from 'cachette';

// --- The database ---------------------------------------------------------------------------

const productRows = new Map([
  [1, { id: 1, name: 'Pen', price: 1.5 }],
  [2, { id: 2, name: 'Notebook', price: 4 }],
  [3, { id: 3, name: 'Ruler', price: 2 }],
  [4, { id: 4, name: 'Eraser', price: 0.5 }],
]);
const orderRows = new Map([[100, { id: 100, productIds: [1, 2, 3, 4] }]]);

let queries = 0;
const db = {
  async findProduct(id) {
    queries++;
    console.log(`  db: SELECT * FROM products WHERE id = ${id}`);
    return productRows.get(id) ?? null;
  },
  /** One query for many rows, in the order of `ids` (null for a missing one). */
  async findProducts(ids) {
    queries++;
    console.log(`  db: SELECT * FROM products WHERE id IN (${ids.join(', ')})`);
    return ids.map((id) => productRows.get(id) ?? null);
  },
};

// --- The cache ------------------------------------------------------------------------------

const cache = createCache({
  store: process.env.REDIS_URL ? { type: 'redis', url: process.env.REDIS_URL } : { type: 'memory' },
  namespace: 'recipes-graphql',
});
await cache.connect();
await cache.clear(); // the "database" above is new on every run: so is the cache

const getProduct = cached(async function getProduct(id) {
  return db.findProduct(id); // a single call's miss
}, {
  cache,
  ttl: '1m',
  // The misses of one many() call, answered by one query. Results in the same order as argsList.
  batch: (argsList) => db.findProducts(argsList.map(([id]) => id)),
});

// --- The schema -----------------------------------------------------------------------------

const schema = buildSchema(`
  type Product { id: Int!, name: String!, price: Float! }
  type Order { id: Int!, items: [Product]! }
  type Query { product(id: Int!): Product, order(id: Int!): Order }
`);

const rootValue = {
  product: ({ id }) => getProduct(id),
  order: ({ id }) => {
    const order = orderRows.get(id);
    if (order === undefined) return null;
    return {
      id: order.id,
      // The list field: N products through one many() call, instead of N calls of getProduct(id)
      // (which would read the cache N times, and query the database once per miss).
      items: () => getProduct.many(order.productIds.map((productId) => [productId])),
    };
  },
};

// --- The walkthrough ------------------------------------------------------------------------

async function run(source) {
  console.log(`query ${source}`);
  const before = queries;
  const result = await graphql({ schema, source, rootValue });
  if (queries === before) console.log('  (no database query)');
  console.log(`  → ${JSON.stringify(result.errors ?? result.data)}`);
}

console.log(`store: ${process.env.REDIS_URL ? 'redis' : 'memory'}`);
await run('{ product(id: 2) { name } }'); // a single call: product 2 is now cached
await run('{ order(id: 100) { items { id name } } }'); // one read for 4 products; 1, 3 and 4 in one query
await run('{ order(id: 100) { items { id name price } } }'); // one read, all hits: no query

const { hits, misses } = getProduct.stats;
console.log(`getProduct: hits ${hits}, misses ${misses}; database queries ${queries}`);
await cache.close();
