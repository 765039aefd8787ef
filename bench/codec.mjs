// Micro-benchmark of the entry codec alone (no store, no cachette call layers), one process:
// the hit-path decode and the miss-path encode of a plain JSON value, this build beside another
// build of the same modules (CODEC_BEFORE, e.g. 0.2's), in alternating rounds; then what the tagged
// form costs, and what a JSON.stringify replacer would have cost instead of the scan.
//
//   npx tsc -p tsconfig.build.json --outDir .bench-tmp/after
//   CODEC_BEFORE=/path/to/0.2/build node bench/codec.mjs .bench-tmp/after
//
// Each figure is ns per operation: the median of ROUNDS rounds of ~ROUND_MS each.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const ROUNDS = Number(process.env.CODEC_ROUNDS ?? 15);
const ROUND_MS = Number(process.env.CODEC_ROUND_MS ?? 150);

const load = async (dir) => ({
  entry: await import(pathToFileURL(path.resolve(dir, 'entry.js')).href),
  json: (await import(pathToFileURL(path.resolve(dir, 'serializers/json.js')).href)).jsonSerializer,
});

const after = await load(process.argv[2] ?? 'dist/esm');
const before = process.env.CODEC_BEFORE ? await load(process.env.CODEC_BEFORE) : undefined;

// The bench's user record (about 200 bytes of JSON), 1,000 of them so no call sees the same object twice in a row.
const users = Array.from({ length: 1000 }, (_, id) => ({
  id,
  name: `User ${id}`,
  email: `user${id}@example.com`,
  active: id % 2 === 0,
  score: id * 1.5,
  roles: ['reader', id % 3 === 0 ? 'admin' : 'writer'],
  address: { city: 'Lyon', zip: `690${String(id % 100).padStart(2, '0')}` },
}));
const typedUsers = users.map((u) => ({ ...u, createdAt: new Date(1_700_000_000_000 + u.id), balance: BigInt(u.id) * 100n }));

let sink = 0;
function measure(run) {
  let n = 0;
  const end = performance.now() + ROUND_MS;
  const start = performance.now();
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) run(n++ % 1000);
  }
  return ((performance.now() - start) * 1e6) / n;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function bench(cases) {
  const times = Object.fromEntries(cases.map(([name]) => [name, []]));
  for (let r = 0; r < ROUNDS + 2; r++) {
    for (const [name, run] of cases) {
      const t = measure(run);
      if (r >= 2) times[name].push(t); // two warm-up rounds
    }
  }
  for (const [name] of cases) {
    const xs = times[name];
    console.log(`${name.padEnd(58)} ${median(xs).toFixed(0).padStart(6)} ns  (rounds ${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`);
  }
}

const now = 1_700_000_000_000;
const plainRaw = users.map((u) => after.entry.encodeEntry(after.json, u, now, 60_000));
const typedRaw = typedUsers.map((u) => after.entry.encodeEntry(after.json, u, now, 60_000));
const plainPayloads = plainRaw.map((raw) => raw.slice(raw.indexOf('{')));
if (!plainRaw[0].startsWith('c1|json|') || !typedRaw[0].startsWith('c1|json+t|')) throw new Error('unexpected tags');

console.log(`node ${process.version}, ${ROUNDS} rounds of ${ROUND_MS} ms, median ns/op\n`);
console.log('hit path: decode a plain JSON entry, value only (what a hit without stale windows does)');
bench([
  ...(before ? [['before: decodeEntry(plain, meta = false)', (i) => (sink += before.entry.decodeEntry(before.json, plainRaw[i], false).value.id)]] : []),
  ['after:  decodeEntry(plain, meta = false)', (i) => (sink += after.entry.decodeEntry(after.json, plainRaw[i], false).value.id)],
  ['JSON.parse of the payload alone', (i) => (sink += JSON.parse(plainPayloads[i]).id)],
]);

console.log('\nmiss path: encode a plain JSON value');
bench([
  ...(before ? [['before: encodeEntry(plain)', (i) => (sink += before.entry.encodeEntry(before.json, users[i], now, 60_000).length)]] : []),
  ['after:  encodeEntry(plain)', (i) => (sink += after.entry.encodeEntry(after.json, users[i], now, 60_000).length)],
  ['JSON.stringify alone', (i) => (sink += JSON.stringify(users[i]).length)],
  ['JSON.stringify with a (no-op) replacer', (i) => (sink += JSON.stringify(users[i], (_k, v) => v).length)],
]);

console.log('\nthe tagged form (the same record plus a Date and a BigInt)');
bench([
  ['after:  encodeEntry(tagged)', (i) => (sink += after.entry.encodeEntry(after.json, typedUsers[i], now, 60_000).length)],
  ['after:  decodeEntry(tagged, meta = false)', (i) => (sink += after.entry.decodeEntry(after.json, typedRaw[i], false).value.id)],
]);
if (sink === 42) console.log('');
