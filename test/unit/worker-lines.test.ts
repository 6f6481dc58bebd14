import { Readable } from 'node:stream';
import { LineSplitter, splitLines } from '../../worker/lines';

async function collect(chunks: (string | Buffer)[]): Promise<string[]> {
  const out: string[] = [];
  for await (const line of splitLines(Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))))) out.push(line);
  return out;
}

describe('splitLines', () => {
  it('splits lines across chunk boundaries', async () => {
    expect(await collect(['ab', 'c\nde', 'f\n', 'g\nh'])).toEqual(['abc', 'def', 'g', 'h']);
  });

  it('drops \\r of \\r\\n, also when \\r and \\n arrive in different chunks', async () => {
    expect(await collect(['a\r', '\nb\r\n', 'c\r', '\n'])).toEqual(['a', 'b', 'c']);
  });

  it('yields a final line without newline, and no extra empty line after a final newline', async () => {
    expect(await collect(['x\ny'])).toEqual(['x', 'y']);
    expect(await collect(['x\ny\n'])).toEqual(['x', 'y']);
  });

  it('keeps empty lines in the middle', async () => {
    expect(await collect(['a\n\n', '\nb'])).toEqual(['a', '', '', 'b']);
  });

  it('does not break multi-byte characters split between chunks', async () => {
    const bytes = Buffer.from('héllo wörld\n€\n');
    const chunks = [...bytes].map((b) => Buffer.from([b])); // one byte per chunk
    expect(await collect(chunks)).toEqual(['héllo wörld', '€']);
  });

  it('yields nothing for empty input', async () => {
    expect(await collect([])).toEqual([]);
    expect(await collect([''])).toEqual([]);
  });

  it('LineSplitter returns completed lines per push and the rest at end', () => {
    const s = new LineSplitter();
    expect(s.push('one\ntw')).toEqual(['one']);
    expect(s.push('o')).toEqual([]);
    expect(s.push('\r')).toEqual([]);
    expect(s.push('\nthree')).toEqual(['two']);
    expect(s.end()).toEqual(['three']);
    expect(s.end()).toEqual([]);
  });

  it('keeps a lone trailing \\r at the very end out of the line', () => {
    const s = new LineSplitter();
    s.push('last\r');
    expect(s.end()).toEqual(['last']);
  });
});
