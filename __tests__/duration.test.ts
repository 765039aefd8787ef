import { describe, expect, it } from '@jest/globals';
import { describeReceived, toMs } from '../lib/duration.js';

describe('toMs', () => {
  it.each<[unknown, number]>([
    [0, 0],
    [1500, 1500],
    [0.5, 0.5],
    [Infinity, Infinity],
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1.5s', 1500],
    ['0s', 0],
    [' 30s ', 30_000],
    ['30 s', 30_000],
  ])('reads %p as %p ms', (input, expected) => {
    expect(toMs(input)).toBe(expected);
  });

  it.each<[string, unknown]>([
    ['a negative number', -5],
    ['negative zero point one', -0.1],
    ['NaN', NaN],
    ['minus Infinity', -Infinity],
    ['an unknown unit', '5x'],
    ['a string without a unit', '30'],
    ['a negative string', '-5s'],
    ['an exponent', '1e3s'],
    ['an empty string', ''],
    ['a unit alone', 'ms'],
    ['two durations', '1m30s'],
    ['an upper-case unit', '5M'],
    ['a leading dot', '.5s'],
    ['null', null],
    ['undefined', undefined],
    ['a boolean', true],
    ['an object', { ms: 5 }],
    ['a bigint', 5n],
  ])('rejects %s', (_what, input) => {
    expect(toMs(input)).toBeUndefined();
  });
});

describe('describeReceived', () => {
  it('shows numbers, and only the type of anything else', () => {
    expect(describeReceived(-5)).toBe('-5');
    expect(describeReceived(NaN)).toBe('NaN');
    expect(describeReceived(null)).toBe('null');
    expect(describeReceived([1, 2])).toBe('array');
    expect(describeReceived({ password: 'x' })).toBe('object');
    expect(describeReceived('hunter2')).toBe('string');
    expect(describeReceived(undefined)).toBe('undefined');
    expect(describeReceived(() => 1)).toBe('function');
  });
});
