import { describe, expect, it } from '@jest/globals';
import { redactor } from '../../lib/stores/redact.js';
import { findSecret } from '../helpers/secrets.js';

class ReplyError extends Error {
  override name = 'ReplyError';
}

describe('redactor', () => {
  const redact = redactor(['pa ss/word#1', undefined, '']);

  it('returns an error without secrets as it is', () => {
    const error = new Error('connect ECONNREFUSED 127.0.0.1:6379');
    expect(redact(error)).toBe(error);
  });

  it('cuts the argument echo of a refused command, whatever it holds', () => {
    const error = new ReplyError("ERR unknown command 'HELLO', with args beginning with: '3' 'AUTH' 'default' 'pa ss/wo");
    const redacted = redact(error) as Error;
    expect(redacted).toBeInstanceOf(ReplyError);
    expect(redacted.message).toBe("ERR unknown command 'HELLO', with args beginning with: [redacted]");
    expect(findSecret(redacted, 'pa ss')).toEqual([]);
    expect(findSecret(error, 'pa ss').length).toBeGreaterThan(0); // the original is left as it was
  });

  it('replaces a secret, raw or percent-encoded, in every string at any depth of the cause chain and properties', () => {
    const inner = Object.assign(new Error('bad pa%20ss%2Fword%231 here'), { details: { url: 'redis://:pa ss/word#1@h' } });
    const middle = new Error('middle', { cause: inner });
    const outer = Object.assign(new Error('outer', { cause: middle }), { hidden: 'x' });
    Object.defineProperty(outer, 'secretProp', { value: 'pa ss/word#1', enumerable: false });
    const redacted = redact(outer);
    expect(findSecret(redacted, 'pa ss/word#1')).toEqual([]);
    expect(findSecret(redacted, 'pa%20ss%2Fword%231')).toEqual([]);
    expect(((redacted as Error).cause as Error).message).toBe('middle');
  });

  it('cuts a cycle rather than keeping the original in it', () => {
    const error = new Error('pa ss/word#1') as Error & { self?: unknown };
    error.self = error;
    expect(findSecret(redact(error), 'pa ss/word#1')).toEqual([]);
  });
});
