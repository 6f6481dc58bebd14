import { formatBytes, formatElapsed, formatRate, formatTable, formatTimestamp } from '../../manager/cli/render/format';
import { parseStartAt } from '../../manager/cli/render/time';

describe('formatElapsed', () => {
  test.each([
    [0, '0ms'],
    [850, '850ms'],
    [1000, '1.0s'],
    [12_345, '12.3s'],
    [59_999, '59.9s'],
    [60_000, '1m00s'],
    [185_000, '3m05s'],
    [3_600_000, '1h00m'],
    [3_720_000, '1h02m'],
    [86_400_000 + 4 * 3_600_000, '1d04h'],
  ])('%d ms → %s', (ms, text) => expect(formatElapsed(ms)).toBe(text));

  test('negative or not finite → -', () => {
    expect(formatElapsed(-1)).toBe('-');
    expect(formatElapsed(Number.NaN)).toBe('-');
  });
});

describe('formatRate and formatBytes', () => {
  test('rates keep two, one or no decimals by size; unknown is -', () => {
    expect(formatRate(null)).toBe('-');
    expect(formatRate(0.25)).toBe('0.25/s');
    expect(formatRate(12.34)).toBe('12.3/s');
    expect(formatRate(1234.4)).toBe('1,234/s');
  });

  test('bytes in binary units', () => {
    expect(formatBytes(512)).toBe('512B');
    expect(formatBytes(1536)).toBe('1.5KiB');
    expect(formatBytes(20 * 2 ** 20)).toBe('20.0MiB');
  });

  test('timestamps in UTC without zone; absent is -', () => {
    expect(formatTimestamp(new Date('2026-01-31T14:05:09.123Z'))).toBe('2026-01-31 14:05:09');
    expect(formatTimestamp(null)).toBe('-');
  });
});

describe('formatTable', () => {
  test('pads columns, right-aligns numeric ones, trims line ends', () => {
    const text = formatTable(
      ['NAME', 'PARTS', 'NOTE'],
      [
        ['a', '5', 'x'],
        ['long-name', '120', ''],
      ],
    );
    expect(text.split('\n')).toEqual(['NAME       PARTS  NOTE', 'a              5  x', 'long-name    120']);
  });

  test('headers only when there are no rows', () => {
    expect(formatTable(['A', 'B'], [])).toBe('A  B');
  });
});

describe('parseStartAt', () => {
  const now = new Date('2026-01-31T12:00:00Z');

  test('+DURATION is relative to now', () => {
    expect(parseStartAt('+5m', now).toISOString()).toBe('2026-01-31T12:05:00.000Z');
    expect(parseStartAt('+1h30m', now).toISOString()).toBe('2026-01-31T13:30:00.000Z');
    expect(parseStartAt(' +90s ', now).toISOString()).toBe('2026-01-31T12:01:30.000Z');
  });

  test('ISO times, with or without a zone', () => {
    expect(parseStartAt('2026-02-01T03:00:00Z', now).toISOString()).toBe('2026-02-01T03:00:00.000Z');
    expect(parseStartAt('2026-02-01T03:00:00+01:00', now).toISOString()).toBe('2026-02-01T02:00:00.000Z');
    expect(parseStartAt('2026-02-01T03:00', now).getTime()).toBe(new Date(2026, 1, 1, 3, 0).getTime());
  });

  test('anything else says what is accepted', () => {
    for (const bad of ['tomorrow', '+5 minutes', '5m', '2026-13-45T00:00:00Z', '']) {
      expect(() => parseStartAt(bad, now)).toThrow(/ISO time like .* or \+DURATION/);
    }
  });
});
