import { formatDuration, formatSize, parseDuration, parseSize, UnitParseError } from '../../pipeline/units';

describe('parseDuration', () => {
  test.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['1m30s', 90_000],
    ['1s500ms', 1_500],
    ['1.5s', 1_500],
    ['1d', 86_400_000],
    ['0s', 0],
    [' 10s ', 10_000],
    [250, 250],
    [0, 0],
  ])('%p is %p ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  test.each(['', '5', '5 m', '5M', '5x', 'm', '30m1h', '1h1h', '-5s', '1.s', 'ms'])('refuses %p', (input) => {
    expect(() => parseDuration(input)).toThrow(UnitParseError);
    expect(() => parseDuration(input)).toThrow(/use numbers with units d, h, m, s, ms in that order/);
  });

  test.each([1.5, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses the plain number %p', (input) => {
    expect(() => parseDuration(input)).toThrow(`a plain number is a count of milliseconds and must be a whole number >= 0 (got ${input})`);
  });
});

describe('parseSize', () => {
  test.each([
    ['64MiB', 64 * 1024 * 1024],
    ['10MB', 10_000_000],
    ['512KiB', 524_288],
    ['1GiB', 1_073_741_824],
    ['5GiB', 5_368_709_120],
    ['1TB', 1e12],
    ['100B', 100],
    ['2kb', 2_000],
    ['64mib', 67_108_864],
    ['1.5KiB', 1_536],
    [4096, 4096],
  ])('%p is %p bytes', (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  test.each(['', '64', '64M', '64 MiB', 'MiB', '64MiBs', '-1KiB', '1PB'])('refuses %p', (input) => {
    expect(() => parseSize(input)).toThrow(UnitParseError);
    expect(() => parseSize(input)).toThrow(/use a number with a unit B, KB, MB, GB, TB \(powers of 1000\) or KiB, MiB, GiB, TiB \(powers of 1024\)/);
  });

  test('refuses a fractional plain number', () => {
    expect(() => parseSize(10.5)).toThrow('a plain number is a count of bytes and must be a whole number >= 0 (got 10.5)');
  });
});

describe('formatting', () => {
  test.each([
    [0, '0s'],
    [500, '500ms'],
    [1_500, '1s500ms'],
    [300_000, '5m'],
    [5_400_000, '1h30m'],
    [86_400_000, '24h'],
  ])('formatDuration(%p) is %p and parses back', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });

  test.each([
    [0, '0B'],
    [100, '100B'],
    [1_024, '1KiB'],
    [67_108_864, '64MiB'],
    [10_000_000, '10MB'],
    [5_368_709_120, '5GiB'],
    [1e12, '1TB'],
    [1_024_000, '1000KiB'],
  ])('formatSize(%p) is %p and parses back', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
    expect(parseSize(text)).toBe(bytes);
  });
});
