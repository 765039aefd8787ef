/**
 * The stored envelope around every cached value.
 *
 * Layout (text): `c1|<serializer>|<createdAt>|<ttlMs>|<payload>`
 * - `c1`: magic and format version. A future `c2` may add fields; `c1` entries keep reading.
 * - `<serializer>`: the serializer's name, or `~` when the cached value is `undefined` (no payload).
 * - `<createdAt>`: epoch milliseconds when the value was computed (room for stale-while-revalidate).
 * - `<ttlMs>`: the time to live it was stored with, empty for no expiry.
 *
 * Binary serializers get the same ASCII header followed by their bytes. Anything that does not parse
 * as an entry (foreign bytes, another serializer, a truncated value) decodes to `undefined`: a miss.
 * @module
 */
import { CacheSerializationError } from './errors.js';
import type { Serializer } from './serializers/serializer.js';

/** A decoded cache entry. */
export interface Entry {
  readonly value: unknown;
  readonly createdAt: number;
  readonly ttlMs: number | undefined;
}

const MAGIC = 'c1|';
const UNDEFINED_TAG = '~';
const SEP = 0x7c; // '|'
/** Longest header we look into when decoding bytes (magic + name + two numbers). */
const MAX_HEADER = 96;

/** Encode `value` for the store. @throws {CacheSerializationError} when the serializer fails. */
export function encodeEntry(
  serializer: Serializer,
  value: unknown,
  createdAt: number,
  ttlMs: number | undefined,
): string | Buffer {
  // Whole milliseconds: the header holds digits only (a performance.now() clock has fractions).
  const tail = `|${Math.floor(createdAt)}|${ttlMs ?? ''}|`;
  if (value === undefined) return MAGIC + UNDEFINED_TAG + tail;
  let payload: string | Uint8Array;
  try {
    payload = serializer.serialize(value);
  } catch (error) {
    // The serializer's own message may quote the value: keep only its type.
    throw new CacheSerializationError(
      `cachette: the ${serializer.name} serializer could not encode a result (${errorName(error)})`,
    );
  }
  const header = MAGIC + serializer.name + tail;
  if (typeof payload === 'string') return header + payload;
  return Buffer.concat([Buffer.from(header, 'latin1'), payload]);
}

/**
 * Decode what the store returned. `undefined` means "not a readable entry": treat as a miss.
 * @throws {CacheSerializationError} when the header is ours but the serializer cannot decode the payload.
 */
export function decodeEntry(serializer: Serializer, raw: string | Uint8Array): Entry | undefined {
  if (typeof raw === 'string') return decodeText(serializer, raw);
  return decodeBytes(serializer, Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
}

function decodeText(serializer: Serializer, raw: string): Entry | undefined {
  if (!raw.startsWith(MAGIC)) return undefined;
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
  if (tag !== serializer.name) return undefined;
  const payload = raw.slice(c + 1);
  return { value: runDeserialize(serializer, serializer.binary ? Buffer.from(payload, 'latin1') : payload), createdAt, ttlMs };
}

function decodeBytes(serializer: Serializer, raw: Buffer): Entry | undefined {
  const end = Math.min(raw.length, MAX_HEADER);
  if (raw.length < 3 || raw.toString('latin1', 0, 3) !== MAGIC) return undefined;
  const a = raw.indexOf(SEP, 3);
  const b = a < 0 || a >= end ? -1 : raw.indexOf(SEP, a + 1);
  const c = b < 0 || b >= end ? -1 : raw.indexOf(SEP, b + 1);
  if (c < 0 || c >= end) return undefined;
  const createdAt = parseCount(raw.toString('latin1', a + 1, b));
  const ttlText = raw.toString('latin1', b + 1, c);
  const ttlMs = ttlText === '' ? undefined : parseCount(ttlText);
  if (createdAt === undefined || (ttlText !== '' && ttlMs === undefined)) return undefined;
  const tag = raw.toString('latin1', 3, a);
  if (tag === UNDEFINED_TAG) return c === raw.length - 1 ? { value: undefined, createdAt, ttlMs } : undefined;
  if (tag !== serializer.name) return undefined;
  const payload = raw.subarray(c + 1);
  return { value: runDeserialize(serializer, serializer.binary ? payload : payload.toString('utf8')), createdAt, ttlMs };
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
    // JSON.parse messages quote the input: never pass them on.
    throw new CacheSerializationError(
      `cachette: the ${serializer.name} serializer could not decode a stored entry (${errorName(error)})`,
    );
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
