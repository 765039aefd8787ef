// Recipe: a cached database read, dropped by tag when the row changes.
//
//   npm run build && node examples/recipes/database-read.mjs                   memory store
//   REDIS_URL=redis://localhost:6379 node examples/recipes/database-read.mjs   Redis + the in-process tier
//
// The database is SQLite running in this process (sql.js: SQLite compiled to WebAssembly, so nothing
// to install or compile). Every query that reaches it is counted, to show which reads the cache saved.
import { setTimeout as sleep } from 'node:timers/promises';
import initSqlJs from 'sql.js';
import { cached, createCache } from 'cachette';

// --- The database ---------------------------------------------------------------------------

const SQL = await initSqlJs();
const db = new SQL.Database();
db.run('CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL)');
db.run("INSERT INTO users VALUES (1, 'Ada', 'ada@example.com'), (2, 'Grace', 'grace@example.com')");

let queries = 0;
/** Run one SELECT with bound parameters and return its rows as plain objects. */
function select(sql, params) {
  queries++;
  const statement = db.prepare(sql);
  try {
    statement.bind(params);
    const rows = [];
    while (statement.step()) rows.push(statement.getAsObject());
    return rows;
  } finally {
    statement.free();
  }
}

// --- The cache ------------------------------------------------------------------------------

// With Redis, `l1` also keeps recent hits decoded in this process: the next read of the same user
// costs no round trip. Redis tells every process when an entry changes, so no process keeps an old row.
const cache = process.env.REDIS_URL
  ? createCache({ store: { type: 'redis', url: process.env.REDIS_URL }, namespace: 'recipes-db', l1: { maxEntries: 10_000 } })
  : createCache({ store: { type: 'memory' }, namespace: 'recipes-db' });
await cache.connect(); // fail fast on a wrong URL instead of every read quietly going to the database
// The database above is new on every run: so is the cache (an application would not clear at start).
await cache.clear();
// The tier serves once its invalidation connection is up (a few ms); wait for it so the walkthrough
// below shows the same thing on every run. An application need not wait: until then, reads go to Redis.
for (let i = 0; i < 250 && cache.health().l1 !== undefined && cache.health().l1.state !== 'ready'; i++) await sleep(20);

const getUser = cached(
  async function getUser(id) {
    const [row] = select('SELECT id, name, email FROM users WHERE id = ?', [id]);
    return row ?? null; // an unknown id is cached too: a flood of lookups for it does not reach the database
  },
  {
    cache,
    ttl: '10m', // the longest a row may be served after a change made behind the application's back
    tags: (id) => [`user:${id}`], // every entry about this user, whichever function wrote it
  },
);

/** A write goes to the database first; once it is committed, every cached read of that user is dropped. */
async function updateEmail(id, email) {
  db.run('UPDATE users SET email = ? WHERE id = ?', [email, id]);
  await cache.invalidateTags([`user:${id}`]); // O(1), seen by every process that shares the store
}

// --- The walkthrough ------------------------------------------------------------------------

/** One read, printed with how it was answered (withMeta gives the same value as getUser(id)). */
async function read(id) {
  const { value, status, tier } = await getUser.withMeta(id);
  console.log(`getUser(${id}) → ${value === null ? 'null' : value.email}  ${status} from ${tier}  queries: ${queries}`);
}

console.log(`store: ${process.env.REDIS_URL ? 'redis, with the in-process tier (l1)' : 'memory'}`);
await read(1); // miss: the database is queried, the row is written to the cache
// Hits. On Redis, a hit read from Redis is then held in the process, and the next ones are served
// from there (no round trip). The copy is kept only once Redis's announcement of the write above has
// arrived (it travels on another connection), so the first hit or two may come from Redis.
for (let i = 0; i < 4; i++) await read(1);

console.log("UPDATE users SET email = 'ada@lovelace.dev' WHERE id = 1; invalidateTags(['user:1'])");
await updateEmail(1, 'ada@lovelace.dev');
await read(1); // miss: the new row
await read(1); // hit
await read(3); // miss: no such user, null is cached
await read(3); // hit

const { hits, l1Hits, misses } = getUser.stats;
console.log(`stats: hits ${hits} (l1 ${l1Hits}), misses ${misses}; database queries ${queries}`);
await cache.close();
db.close();
