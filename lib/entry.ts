/**
 * The stored envelope around every cached value.
 *
 * Layout (text), two versions:
 * - `c1|<serializer>|<createdAt>|<ttlMs>|<payload>`: written when the function uses no stale window
 *   and no refresh-ahead (the common case, and everything 0.1 wrote);
 * - `c2|<serializer>|<createdAt>|<ttlMs>|<staleMs>|<computeMs>|<payload>`: adds the stale window the
 *   entry was stored with (its physical TTL is `ttlMs + staleMs`) and how long the origin took;
 * - `s1|…|<stamps>|<payload>` and `s2|…|<stamps>|<payload>`: `c1` and `c2` with the invalidation
 *   stamps the entry was written under (everything 0.4 writes, see `invalidation.ts`).
 *
 * Fields:
 * - `c1`/`c2`: magic and format version. Both keep reading in later versions.
 * - `<serializer>`: the tag: how the payload is encoded. The serializer's name (`json`: plain JSON,
 *   read with `JSON.parse` alone); `<name>+t` for a serializer's tagged form (`json+t`: JSON with type
 *   tags, for values plain JSON would change, see `serializers/tagged.ts`); `~` when the cached value
 *   is `undefined` (no payload). Serializer names never hold `+`, so a later format can record more
 *   (`json+t+gz`, `msgpack`) and a reader that does not know a tag treats the entry as a miss.
 * - `<createdAt>`: epoch milliseconds when the value was computed; `createdAt + ttlMs` is the
 *   logical expiry.
 * - `<ttlMs>`: the time to live it was stored with, empty for no expiry.
 * - `<stamps>`: the values of the entry's clear generations and tag records when its origin started
 *   (`[A-Za-z0-9_.,-]`, never `|`): a reader compares them with the current ones.
 *
 * Binary serializers get the same ASCII header followed by their bytes. Anything that does not parse
 * as an entry (foreign bytes, another serializer, a truncated value) decodes to `undefined`: a miss.
 * @module
 */
import { types } from 'node:util';
import { CacheSerializationError } from './errors.js';
import { jsonSerializer } from './serializers/json.js';
import { algorithmOf, compress, COMPRESSION, decompress, MARKER_LENGTH, markerOf, type CompressingSerializer } from './serializers/compression.js';
import { TAGGED_FORM, type Serializer, type TaggedForm, type TaggedSerializer } from './serializers/serializer.js';
import { CodecRefusal } from './serializers/tagged.js';

/** A decoded cache entry. */
export interface Entry {
  readonly value: unknown;
  /** When the value was computed (epoch ms, writer's clock). */
  readonly createdAt: number;
  /** The fresh lifetime it was stored with; `undefined`: no expiry. */
  readonly ttlMs: number | undefined;
  /** How long past `ttlMs` it may still be served stale (`c2` only). */
  readonly staleMs?: number | undefined;
  /** How long the origin took to compute it, in ms (`c2` only). */
  readonly computeMs?: number | undefined;
  /** The invalidation stamps it was written under (`s1`/`s2` only); `undefined` for a 0.3 entry. */
  readonly stamps?: string | undefined;
}

/** The `c2` fields: written only when a function uses stale windows or refresh-ahead. */
export interface EntryExtras {
  readonly staleMs: number;
  readonly computeMs: number;
}

const UNDEFINED_TAG = '~';
/** Appended to the serializer's name when the payload is its tagged form (`json+t`). */
const TAGGED_SUFFIX = '+t';
const isUint8Array = types.isUint8Array;
const SEP = 0x7c; // '|'
/** Longest stamps field an entry carries (a clear generation pair and up to 64 tag records). */
export const MAX_STAMPS_LENGTH = 2048;
/** Longest header we look into when decoding bytes (magic + name + four numbers + stamps). */
const MAX_HEADER = 128 + MAX_STAMPS_LENGTH;

/** Encode `value` for the store. @throws {CacheSerializationError} when the serializer fails. */
export function encodeEntry(
  serializer: Serializer,
  value: unknown,
  createdAt: number,
  ttlMs: number | undefined,
  extras?: EntryExtras,
  stamps?: string,
): string | Buffer {
  // Whole milliseconds: the header holds digits only (a performance.now() clock has fractions).
  let tail = `|${Math.floor(createdAt)}|${ttlMs ?? ''}|`;
  if (extras !== undefined) tail += `${Math.ceil(extras.staleMs)}|${Math.ceil(extras.computeMs)}|`;
  if (stamps !== undefined) tail += `${stamps}|`;
  const magic = stamps === undefined ? (extras === undefined ? 'c1|' : 'c2|') : extras === undefined ? 's1|' : 's2|';
  if (value === undefined) return magic + UNDEFINED_TAG + tail;
  const form = (serializer as Partial<TaggedSerializer>)[TAGGED_FORM];
  const compression = (serializer as Partial<CompressingSerializer>)[COMPRESSION];
  if (form !== undefined) {
    const { text, tagged } = encodeForm(serializer, form, value);
    const tag = tagged ? serializer.name + TAGGED_SUFFIX : serializer.name;
    if (compression !== undefined) return compressed(magic, tag, tail, text, compression.threshold, compression.algorithm);
    return magic + tag + tail + text;
  }
  const payload = runSerialize(serializer, value);
  if (compression !== undefined) return compressed(magic, serializer.name, tail, payload, compression.threshold, compression.algorithm);
  const header = magic + serializer.name + tail;
  if (typeof payload === 'string') return header + payload;
  return Buffer.concat([Buffer.from(header, 'latin1'), payload]);
}

/**
 * The entry of a compressing codec: the payload compressed (and its tag marked) when it has at least
 * `threshold` bytes, else as it is.
 */
function compressed(
  magic: string,
  tag: string,
  tail: string,
  payload: string | Uint8Array,
  threshold: number,
  algorithm: Parameters<typeof compress>[0],
): string | Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  if (bytes.byteLength < threshold) {
    return typeof payload === 'string' ? magic + tag + tail + payload : Buffer.concat([Buffer.from(magic + tag + tail, 'latin1'), payload]);
  }
  return Buffer.concat([Buffer.from(magic + tag + markerOf(algorithm) + tail, 'latin1'), compress(algorithm, bytes)]);
}

function encodeForm(serializer: Serializer, form: TaggedForm, value: unknown): { text: string; tagged: boolean } {
  try {
    return form.encode(value);
  } catch (error) {
    // The codec's own refusals name only types and positions; anything else (a getter that threw
    // while the value was walked) is reduced to its type like any serializer error.
    if (error instanceof CodecRefusal) throw error;
    throw encodeFailure(serializer, error);
  }
}

/**
 * Run a serializer and check what it returned. Whatever goes wrong (a throw of anything, a result of
 * the wrong type), the error names the serializer and a type only: its own message, `cause` and
 * stack may quote the value, so none of them is passed on.
 */
function runSerialize(serializer: Serializer, value: unknown): string | Uint8Array {
  let payload: unknown;
  try {
    payload = serializer.serialize(value);
  } catch (error) {
    // A built-in codec's refusal names only a type and a position (the rich and msgpack codecs).
    if (error instanceof CodecRefusal) throw error;
    throw encodeFailure(serializer, error);
  }
  if (typeof payload === 'string' || isUint8Array(payload)) return payload;
  // A promise the serializer returned must not reject unhandled later.
  if (payload instanceof Promise) payload.catch(() => undefined);
  throw new CacheSerializationError(
    `cachette: the ${serializer.name} serializer returned ${typeName(payload)} instead of a string or a Uint8Array; the result was not cached`,
  );
}

function encodeFailure(serializer: Serializer, error: unknown): CacheSerializationError {
  return new CacheSerializationError(`cachette: the ${serializer.name} serializer could not encode a result (${errorName(error)})`);
}

/**
 * Decode what the store returned. `undefined` means "not a readable entry": treat as a miss.
 * @throws {CacheSerializationError} when the header is ours but the serializer cannot decode the payload.
 */
export function decodeEntry(serializer: Serializer, raw: string | Uint8Array, meta = true): Entry | undefined {
  if (typeof raw === 'string') {
    if (meta) return decodeText(serializer, raw);
    if (raw.startsWith('s1|')) return decodeValueOnly(serializer, raw, true);
    return raw.startsWith('c1|') ? decodeValueOnly(serializer, raw, false) : decodeText(serializer, raw);
  }
  return decodeBytes(serializer, Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
}

/**
 * An entry as a store that keeps payloads in process holds it beside the payload (see
 * `Store.getDerived`): a plain JSON entry (tag `json`, or `~`) is decoded once, and each
 * {@link HeldEntry.open} hands out a new copy of its value, as a fresh `JSON.parse` would, without
 * parsing again. Any other entry (a tagged value, another serializer, bytes) is decoded on each open.
 */
export class HeldEntry {
  /** The entry decoded once; `undefined` when the payload is not an entry (a miss). */
  readonly #template: Entry | undefined;
  /** Why the one decode failed, thrown again by each open (each read reports it, as before). */
  readonly #error: unknown;
  readonly #decoded: boolean;

  constructor(
    readonly serializer: Serializer,
    readonly raw: string | Uint8Array,
  ) {
    this.#decoded = isPlainJsonEntry(serializer, raw);
    if (!this.#decoded) return;
    try {
      this.#template = decodeEntry(serializer, raw, true);
    } catch (error) {
      this.#error = error ?? new CacheSerializationError('cachette: a stored entry could not be decoded');
    }
  }

  /**
   * The entry, with a value of its own: mutating it never reaches the next reader.
   * @throws {CacheSerializationError} when the header is ours but the payload cannot be decoded.
   */
  open(meta: boolean): Entry | undefined {
    if (!this.#decoded) return decodeEntry(this.serializer, this.raw, meta);
    if (this.#error !== undefined) throw this.#error;
    const template = this.#template;
    if (template === undefined) return undefined;
    const value = template.value;
    // A primitive (or null) cannot be mutated: the template itself is served.
    if (typeof value !== 'object' || value === null) return template;
    let copy: unknown;
    try {
      copy = copyParsed(value);
    } catch {
      // Deeper than the stack allows (JSON.parse is not recursive, this copy is): parse it again.
      return decodeEntry(this.serializer, this.raw, meta);
    }
    return { value: copy, createdAt: template.createdAt, ttlMs: template.ttlMs, staleMs: template.staleMs, computeMs: template.computeMs, stamps: template.stamps };
  }
}

/** The built-in JSON serializer's plain entry (or an `undefined` value): its value is what `JSON.parse` returned. */
function isPlainJsonEntry(serializer: Serializer, raw: string | Uint8Array): boolean {
  if (typeof raw !== 'string') return false;
  if (raw.startsWith('~|', 3)) return true;
  return serializer === jsonSerializer && raw.startsWith('json|', 3);
}

/**
 * A deep copy of what `JSON.parse` returned: plain objects, arrays and primitives are all it can hold
 * (no cycles, no shared parts, no other classes), so this copy equals a new parse of the same text.
 */
function copyParsed(value: object): unknown {
  if (Array.isArray(value)) {
    // slice() copies the primitives; only the nested objects and arrays need a copy of their own.
    const out: unknown[] = value.slice();
    for (let i = 0; i < out.length; i++) {
      const item = out[i];
      if (typeof item === 'object' && item !== null) out[i] = copyParsed(item);
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  // for…in over V8's enum cache is faster than Object.keys (no array); the own-property check keeps
  // out anything enumerable added to Object.prototype, which JSON.parse would not copy either.
  for (const key in value) {
    if (!hasOwn.call(value, key)) continue;
    const item: unknown = (value as Record<string, unknown>)[key];
    const copy = typeof item === 'object' && item !== null ? copyParsed(item) : item;
    // JSON.parse makes `"__proto__"` an own property; an assignment would set the prototype instead.
    if (key === '__proto__') Object.defineProperty(out, key, { value: copy, writable: true, enumerable: true, configurable: true });
    else out[key] = copy;
  }
  return out;
}

const hasOwn = Object.prototype.hasOwnProperty;

const heldDecoders = new WeakMap<Serializer, (raw: string | Uint8Array) => HeldEntry>();

/**
 * The `derive` function a store's `getDerived` is read with for `serializer`: one per serializer, so
 * what a store keeps for one serializer is never served to a reader with another.
 */
export function heldDecoder(serializer: Serializer): (raw: string | Uint8Array) => HeldEntry {
  let decoder = heldDecoders.get(serializer);
  if (decoder === undefined) {
    decoder = (raw) => new HeldEntry(serializer, raw);
    heldDecoders.set(serializer, decoder);
  }
  return decoder;
}

/**
 * Number of `|`-separated header fields after the magic: tag, createdAt, ttl (+ stale, compute for
 * c2), + stamps for s1 and s2.
 */
function fieldCount(raw: string): number {
  const version = raw.slice(0, 3);
  if (version === 'c1|') return 3;
  if (version === 'c2|') return 5;
  if (version === 's1|') return 4;
  if (version === 's2|') return 6;
  return 0;
}

function decodeText(serializer: Serializer, raw: string): Entry | undefined {
  if (raw.startsWith('c1|')) return decodeTextC1(serializer, raw);
  const fields = fieldCount(raw);
  if (fields === 0) return undefined;
  const ends: number[] = [];
  let at = 2;
  for (let i = 0; i < fields; i++) {
    at = raw.indexOf('|', at + 1);
    if (at < 0) return undefined;
    ends.push(at);
  }
  const header = (i: number): string => raw.slice(ends[i - 1]! + 1, ends[i]);
  const meta = withStamps(raw.charCodeAt(0) === 115 /* s */, fields, header);
  if (meta === undefined) return undefined;
  const tag = raw.slice(3, ends[0]);
  const last = ends[fields - 1]!;
  if (tag === UNDEFINED_TAG) return last === raw.length - 1 ? { value: undefined, ...meta } : undefined;
  const payload = raw.slice(last + 1);
  if (tag !== serializer.name) return taggedEntry(serializer, tag, payload, meta);
  return { value: runDeserialize(serializer, serializer.binary ? Buffer.from(payload, 'latin1') : payload), ...meta };
}

/**
 * The hit path when the caller needs only the value (no stale windows, no refresh-ahead), for `c1`
 * and (`stamped`) `s1` entries: the header is checked in place, its numbers are not parsed
 * (`createdAt` is reported as 0, `ttlMs` as unknown); the stamps are sliced out.
 */
function decodeValueOnly(serializer: Serializer, raw: string, stamped: boolean): Entry | undefined {
  const a = raw.indexOf('|', 3);
  const b = a < 0 ? -1 : raw.indexOf('|', a + 1);
  const c = b < 0 ? -1 : raw.indexOf('|', b + 1);
  const d = !stamped || c < 0 ? c : raw.indexOf('|', c + 1);
  if (d < 0 || !digitsOnly(raw, a + 1, b, false) || !digitsOnly(raw, b + 1, c, true)) return undefined;
  const stamps = stamped ? raw.slice(c + 1, d) : undefined;
  const tagLength = a - 3;
  if (tagLength === 1 && raw.charCodeAt(3) === 126 /* ~ */) {
    return d === raw.length - 1 ? { value: undefined, createdAt: 0, ttlMs: undefined, stamps } : undefined;
  }
  if (tagLength !== serializer.name.length || !raw.startsWith(serializer.name, 3)) {
    return taggedEntry(serializer, raw.slice(3, a), raw.slice(d + 1), stamped ? { ...UNKNOWN_META, stamps } : UNKNOWN_META);
  }
  const payload = raw.slice(d + 1);
  return { value: runDeserialize(serializer, serializer.binary ? Buffer.from(payload, 'latin1') : payload), createdAt: 0, ttlMs: undefined, stamps };
}

/** `raw[from, to)` is 1–16 decimal digits (or empty, when `allowEmpty`). */
function digitsOnly(raw: string, from: number, to: number, allowEmpty: boolean): boolean {
  const length = to - from;
  if (length === 0) return allowEmpty;
  if (length > 16) return false;
  for (let i = from; i < to; i++) {
    const code = raw.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

/** The hit-path decoder for the common `c1` text entry: three `indexOf`s, no arrays, no closures. */
function decodeTextC1(serializer: Serializer, raw: string): Entry | undefined {
  const a = raw.indexOf('|', 3);
  const b = a < 0 ? -1 : raw.indexOf('|', a + 1);
  const c = b < 0 ? -1 : raw.indexOf('|', b + 1);
  if (c < 0) return undefined;
  const createdAt = parseCount(raw.slice(a + 1, b));
  const ttlText = raw.slice(b + 1, c);
  const ttlMs = ttlText === '' ? undefined : parseCount(ttlText);
  if (createdAt === undefined || (ttlText !== '' && ttlMs === undefined)) return undefined;
  const tag = raw.slice(3, a);
  if (tag === UNDEFINED_TAG) return c === raw.length - 1 ? { value: undefined, createdAt, ttlMs } : undefined;
  if (tag !== serializer.name) return taggedEntry(serializer, tag, raw.slice(c + 1), { createdAt, ttlMs });
  const payload = raw.slice(c + 1);
  return { value: runDeserialize(serializer, serializer.binary ? Buffer.from(payload, 'latin1') : payload), createdAt, ttlMs };
}

function decodeBytes(serializer: Serializer, raw: Buffer): Entry | undefined {
  const fields = raw.length < 3 ? 0 : fieldCount(raw.toString('latin1', 0, 3));
  if (fields === 0) return undefined;
  const end = Math.min(raw.length, MAX_HEADER);
  const ends: number[] = [];
  let at = 2;
  for (let i = 0; i < fields; i++) {
    at = raw.indexOf(SEP, at + 1);
    if (at < 0 || at >= end) return undefined;
    ends.push(at);
  }
  const header = (i: number): string => raw.toString('latin1', ends[i - 1]! + 1, ends[i]);
  const meta = withStamps(raw[0] === 115 /* s */, fields, header);
  if (meta === undefined) return undefined;
  const tag = raw.toString('latin1', 3, ends[0]);
  const last = ends[fields - 1]!;
  if (tag === UNDEFINED_TAG) return last === raw.length - 1 ? { value: undefined, ...meta } : undefined;
  const payload = raw.subarray(last + 1);
  if (tag !== serializer.name) return taggedEntry(serializer, tag, payload, meta);
  return { value: runDeserialize(serializer, serializer.binary ? payload : payload.toString('utf8')), ...meta };
}

type Meta = Omit<Entry, 'value'>;

/** What the value-only decoder reports for the header numbers it does not parse. */
const UNKNOWN_META: Meta = { createdAt: 0, ttlMs: undefined };

/**
 * An entry whose tag is not the serializer's name: readable only when it is the serializer's tagged
 * form (`<name>+t`), either of them compressed (`<name>+br`, `<name>+t+df` …); anything else is
 * foreign (a miss). Off the hot path: plain entries never get here.
 *
 * A compressed payload read as text (a store that hands back strings, such as Redis for a cache
 * without compression) has lost its bytes: a miss. So is a compression this Node cannot decode.
 */
function taggedEntry(serializer: Serializer, tag: string, payload: string | Buffer, meta: Meta): Entry | undefined {
  const name = serializer.name;
  const algorithm = algorithmOf(tag);
  const base = algorithm === undefined ? tag : tag.slice(0, -MARKER_LENGTH);
  const plain = base === name;
  const form = plain ? undefined : (serializer as Partial<TaggedSerializer>)[TAGGED_FORM];
  if (!plain && (form === undefined || base.length !== name.length + TAGGED_SUFFIX.length || !base.startsWith(name) || !base.endsWith(TAGGED_SUFFIX))) {
    return undefined;
  }
  let body: string | Buffer = payload;
  if (algorithm !== undefined) {
    if (typeof payload === 'string') return undefined;
    let inflated: Buffer | undefined;
    try {
      inflated = decompress(algorithm, payload);
    } catch (error) {
      throw decodeFailure(serializer, error);
    }
    if (inflated === undefined) return undefined;
    body = inflated;
  } else if (plain) {
    return undefined; // the serializer's own tag never gets here uncompressed
  }
  if (plain) {
    const bytes = body as Buffer; // decompressed: plain tags get here only compressed
    return { value: runDeserialize(serializer, serializer.binary ? bytes : bytes.toString('utf8')), ...meta };
  }
  let value: unknown;
  try {
    value = (form as TaggedForm).decode(typeof body === 'string' ? body : body.toString('utf8'));
  } catch (error) {
    throw decodeFailure(serializer, error);
  }
  return { value, ...meta };
}

/** {@link parseMeta} of a `c`/`s` header: for `s1`/`s2` the last field is the stamps. */
function withStamps(stamped: boolean, fields: number, header: (i: number) => string): Meta | undefined {
  if (!stamped) return parseMeta(fields, header);
  const meta = parseMeta(fields - 1, header);
  return meta === undefined ? undefined : { ...meta, stamps: header(fields - 1) };
}

/** The numeric header fields (field 1 = createdAt, 2 = ttl, 3 = stale, 4 = compute), or `undefined` if malformed. */
function parseMeta(fields: number, header: (i: number) => string): Meta | undefined {
  const createdAt = parseCount(header(1));
  const ttlText = header(2);
  const ttlMs = ttlText === '' ? undefined : parseCount(ttlText);
  if (createdAt === undefined || (ttlText !== '' && ttlMs === undefined)) return undefined;
  if (fields === 3) return { createdAt, ttlMs };
  const staleMs = parseCount(header(3));
  const computeMs = parseCount(header(4));
  if (staleMs === undefined || computeMs === undefined) return undefined;
  return { createdAt, ttlMs, staleMs, computeMs };
}

/** A non-negative integer written in decimal digits only, or `undefined`. */
function parseCount(text: string): number | undefined {
  if (text.length === 0 || text.length > 16) return undefined;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 57) return undefined;
  }
  return Number(text);
}

function runDeserialize(serializer: Serializer, payload: string | Buffer): unknown {
  try {
    return serializer.deserialize(payload);
  } catch (error) {
    throw decodeFailure(serializer, error);
  }
}

function decodeFailure(serializer: Serializer, error: unknown): CacheSerializationError {
  // JSON.parse messages quote the input: never pass them on.
  return new CacheSerializationError(`cachette: the ${serializer.name} serializer could not decode a stored entry (${errorName(error)})`);
}

/**
 * A thrown thing, named by type only: an error's `name` when it looks like a class name (`TypeError`),
 * else `a thrown <type>`. Never its message, and a throwing `name` getter is survived.
 */
function errorName(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    try {
      const name: unknown = (error as { name?: unknown }).name;
      if (typeof name === 'string' && /^[A-Z][A-Za-z]{0,63}$/.test(name)) return name;
    } catch {
      // fall through
    }
    return 'a thrown object';
  }
  return `a thrown ${typeof error}`;
}

/** The type of a wrong serializer result, never its value. */
function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return `a ${typeof value}`;
  return Array.isArray(value) ? 'an array' : 'an object';
}
