/**
 * What Redis answers, and the arguments it takes: reply mapping, which error replies are refusals
 * (Redis is up) rather than outages, the lock's compare-and-delete script, and whole-millisecond TTLs.
 * @module
 */
import { createHash } from 'node:crypto';
import { ErrorReply } from 'redis';
import { CacheStoreError } from '../errors.js';

/** Why a connection failed, in words, from the client's (already redacted) error. */
export function connectFailure(error: Error): string {
  // A sentinel passes its node clients' errors on wrapped: `Master Client (host:port): <message>`.
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error && /^(Master|Replica|Sentinel) Client \(/.test(error.message)) return connectFailure(cause);
  const code = (error as { code?: unknown }).code;
  const text = error.message;
  if (/^NOAUTH/.test(text)) return 'authentication required: no password given (NOAUTH)';
  if (/^WRONGPASS|invalid (username-)?password|^ERR AUTH/i.test(text)) return `wrong password or user (${text.split(' ')[0]})`;
  if (/DB index is out of range/i.test(text)) return 'database index out of range (SELECT refused)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `unknown host (${String(code)})`;
  if (code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED)';
  if (code === 'ECONNRESET') return 'connection reset (ECONNRESET)';
  return `${error.name}: ${text}`;
}

export function toPayload(reply: unknown): string | Buffer | undefined {
  return typeof reply === 'string' || Buffer.isBuffer(reply) ? reply : undefined;
}

/** An `MGET` reply as payloads, one per key asked (`undefined` for a missing key); anything else is a failure. */
export function toPayloads(count: number): (reply: unknown) => Array<string | Buffer | undefined> {
  return (reply) => {
    if (!Array.isArray(reply) || reply.length !== count) throw new CacheStoreError('cachette: redis MGET answered with an unexpected reply', 'redis');
    return reply.map(toPayload);
  };
}

export const isRemoved = (count: number): boolean => count > 0;
export const isScriptRemoved = (count: unknown): boolean => typeof count === 'number' && count > 0;
export const isStored = (reply: unknown): boolean => reply !== null && reply !== undefined;

/** Delete KEYS[1] only while it holds ARGV[1]; replies 1 when deleted, else 0. */
export const COMPARE_AND_DELETE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
export const COMPARE_AND_DELETE_SHA1 = createHash('sha1').update(COMPARE_AND_DELETE).digest('hex');

/** Compare-and-set keeping the key's TTL: 1 when it replaced the value, 0 otherwise. */
export const COMPARE_AND_SET = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL') return 1 else return 0 end";
export const COMPARE_AND_SET_SHA1 = createHash('sha1').update(COMPARE_AND_SET).digest('hex');

export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** Reply classes of node-redis, by name too: a client you pass in may come from another copy of it. */
const REPLY_CLASSES = new Set(['ErrorReply', 'SimpleError', 'BlobError']);

/**
 * A reply refusing the command (`OOM`, `READONLY`, `WRONGTYPE`, `NOPERM` …): Redis is up and
 * answering, so the breaker must not open. `LOADING`, `BUSY` and `MASTERDOWN` say the server can serve
 * nothing right now: those count as outages.
 */
export function isRefusal(error: unknown): boolean {
  const reply = error instanceof CacheStoreError ? error.cause : error;
  if (!(reply instanceof Error)) return false;
  if (!(reply instanceof ErrorReply) && !REPLY_CLASSES.has(reply.constructor.name)) return false;
  return !/^(LOADING|BUSY|MASTERDOWN)\b/.test(reply.message);
}

export function isReadOnlyReply(error: unknown): boolean {
  return isRefusal(error) && (error as Error).message.startsWith('READONLY');
}

/** Redis PX takes a positive integer: round a TTL up, never to 0. */
export function wholeMs(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs));
}
