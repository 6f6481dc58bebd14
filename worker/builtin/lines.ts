import { Readable } from 'node:stream';
import { defineTask } from '../task';

/** Counts the lines of every input; writes the count to `out.txt` and returns { lines, bytes }. */
export const linesCount = defineTask({
  name: 'lines.count',
  description: 'Counts lines; writes the count to out.txt.',
  async run(_part, ctx) {
    let lines = 0;
    let chars = 0;
    for await (const line of ctx.lines()) {
      lines++;
      chars += line.length;
    }
    await ctx.writeOutput('out.txt', `${lines}\n`, { contentType: 'text/plain' });
    return { lines, chars };
  },
});

/** Upper-cases every line of every input into `out.txt` (streamed); returns { lines }. */
export const linesUpper = defineTask({
  name: 'lines.upper',
  description: 'Upper-cases lines into out.txt.',
  async run(_part, ctx) {
    let lines = 0;
    const body = Readable.from(
      (async function* () {
        for await (const line of ctx.lines()) {
          lines++;
          yield `${line.toUpperCase()}\n`;
        }
      })(),
      { objectMode: false },
    );
    await ctx.writeOutput('out.txt', body, { contentType: 'text/plain' });
    return { lines };
  },
});
