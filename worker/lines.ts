/**
 * Line splitting over byte chunks, without buffering whole objects. Splits on `\n` bytes (safe
 * in UTF-8: a newline byte never occurs inside a multi-byte character), drops a `\r` before it,
 * and yields a final line that has no newline. A `\r\n` split across two chunks is handled
 * because the `\r` stays with the unfinished line until its `\n` arrives.
 */
export class LineSplitter {
  private pending: Buffer[] = [];

  /** Feeds one chunk; returns the lines it completed. */
  push(chunk: Buffer | string): string[] {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const lines: string[] = [];
    let from = 0;
    for (let nl = buf.indexOf(0x0a, from); nl !== -1; nl = buf.indexOf(0x0a, from)) {
      const piece = buf.subarray(from, nl);
      const line = this.pending.length === 0 ? piece : Buffer.concat([...this.pending, piece]);
      this.pending = [];
      lines.push(decodeLine(line));
      from = nl + 1;
    }
    if (from < buf.length) this.pending.push(buf.subarray(from));
    return lines;
  }

  /** Ends the input; returns the last line when the input did not end with a newline. */
  end(): string[] {
    if (this.pending.length === 0) return [];
    const line = Buffer.concat(this.pending);
    this.pending = [];
    return line.length === 0 ? [] : [decodeLine(line)];
  }
}

function decodeLine(line: Buffer): string {
  const end = line.length > 0 && line[line.length - 1] === 0x0d ? line.length - 1 : line.length;
  return line.toString('utf8', 0, end);
}

/** Yields the lines of a byte stream (e.g. a Readable), one at a time. */
export async function* splitLines(source: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const splitter = new LineSplitter();
  for await (const chunk of source) yield* splitter.push(chunk);
  yield* splitter.end();
}
