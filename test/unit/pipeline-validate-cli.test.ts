import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { fileSizeOf, register, validateFile, type ValidateIo } from '../../manager/cli/commands/validate';

const root = join(__dirname, '..', '..');

/** Real files, captured output. */
function capture(): ValidateIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out: (text: string) => void (io.stdout += text),
    err: (text: string) => void (io.stderr += text),
    readFile: (file: string) => readFile(file, 'utf8'),
  };
  return io;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'batchgrid-validate-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('batchgrid validate', () => {
  test('a valid file: summary on stdout, exit 0', async () => {
    const io = capture();
    const file = join(root, 'examples/claims/pipeline.yaml');
    expect(await validateFile(file, {}, io)).toBe(0);
    expect(io.stderr).toBe('');
    const lines = io.stdout.split('\n');
    expect(lines[0]).toBe(`${file}: valid`);
    expect(lines[1]).toBe('pipeline claims-monthly (batchgrid/v1): 3 stages, fleet default, concurrency 1000');
    expect(io.stdout).toContain('  validate -> price [stream]\n  price -> summarize [gather]\nfinal: summarize\n');
  });

  test('an invalid file: FILE:LINE: path: message for every problem on stderr, exit 1', async () => {
    const io = capture();
    const file = join(root, 'test/fixtures/pipelines/bad-unknown-keys.yaml');
    expect(await validateFile(file, {}, io)).toBe(1);
    expect(io.stdout).toBe('');
    expect(io.stderr).toBe(
      [
        `${file}:4: colour: unknown key "colour"`,
        `${file}:6: input.split.overlap: unknown key "overlap"`,
        `${file}:10: stages[0].neds: unknown key "neds" (did you mean "needs"?)`,
        `${file}:13: stages[0].retry.jitter: unknown key "jitter"`,
        `4 problems in ${file}`,
        '',
      ].join('\n'),
    );
  });

  test('a syntax error has no path', async () => {
    const io = capture();
    const file = join(dir, 'broken.yml');
    writeFileSync(file, 'apiVersion: batchgrid/v1\nkind: "Pipeline\n');
    expect(await validateFile(file, {}, io)).toBe(1);
    expect(io.stderr).toBe(`${file}:2: YAML syntax error: Missing closing "quote\n1 problem in ${file}\n`);
  });

  test('--json: the compiled pipeline and its order, or the problems, on stdout', async () => {
    const good = capture();
    expect(await validateFile(join(root, 'examples/diamond.yaml'), { json: true }, good)).toBe(0);
    const parsed = JSON.parse(good.stdout) as { ok: boolean; order: string[]; pipeline: { name: string } };
    expect(parsed.ok).toBe(true);
    expect(parsed.order).toEqual(['a', 'b', 'c', 'd']);
    expect(parsed.pipeline.name).toBe('diamond');

    const bad = capture();
    const file = join(root, 'test/fixtures/pipelines/bad-cycle.yaml');
    expect(await validateFile(file, { json: true }, bad)).toBe(1);
    expect(bad.stderr).toBe('');
    expect(JSON.parse(bad.stdout)).toEqual({
      ok: false,
      file,
      problems: [{ path: 'stages[0].needs[0]', line: 7, message: 'needs form a cycle: a -> b -> c -> a' }],
    });
  });

  test('JSON by extension, and by content when the extension says nothing', async () => {
    const body = JSON.stringify({ apiVersion: 'batchgrid/v1', kind: 'Pipeline', name: 'j', stages: [{ id: 'a', task: 'noop', timeout: 0 }] }, null, 2);
    for (const name of ['p.json', 'p.definition']) {
      const io = capture();
      const file = join(dir, name);
      writeFileSync(file, body);
      expect(await validateFile(file, {}, io)).toBe(1);
      expect(io.stderr).toBe(`${file}:9: stages[0].timeout: must be between 1s and 24h (got 0s)\n1 problem in ${file}\n`);
    }
  });

  test('a missing file or a directory: a clear error, exit 2', async () => {
    const missing = capture();
    expect(await validateFile(join(dir, 'nope.yaml'), {}, missing)).toBe(2);
    expect(missing.stderr).toBe(`batchgrid validate: cannot read ${join(dir, 'nope.yaml')}: no such file\n`);

    const directory = capture();
    expect(await validateFile(dir, { json: true }, directory)).toBe(2);
    expect(JSON.parse(directory.stdout)).toEqual({ ok: false, file: dir, error: `cannot read ${dir}: is a directory` });
  });

  test('a 66 MB file is refused by its size without being read', async () => {
    const file = join(dir, 'huge.yaml');
    const stage = (i: number) => `  - id: s${i}\n    task: noop\n    params: { blob: "${'x'.repeat(1_000_000)}" }\n`;
    writeFileSync(file, `apiVersion: batchgrid/v1\nkind: Pipeline\nname: huge\nstages:\n${Array.from({ length: 66 }, (_, i) => stage(i)).join('')}`);
    const reads: string[] = [];
    const io = Object.assign(capture(), { fileSize: fileSizeOf, readFile: async (f: string) => void reads.push(f) as never });
    const rssBefore = process.memoryUsage().rss;
    expect(await validateFile(file, {}, io)).toBe(1);
    expect(reads).toEqual([]);
    expect(io.stderr).toMatch(new RegExp(`^${file}: the definition is 66,\\d{3},\\d{3} bytes, over the limit of 1,048,576 bytes \\(a pipeline definition is a few stages; data belongs in the job input\\)\n1 problem in `));
    // Informational: validating it this way costs no memory to speak of (it once took 2.5 GB).
    process.stdout.write(`validate of a 66 MB file: rss grew by ${Math.round((process.memoryUsage().rss - rssBefore) / 2 ** 20)} MiB\n`);
  });

  test('params of 300 KB: refused with the field, its size, the limit and the line', async () => {
    const io = capture();
    const file = join(dir, 'big-params.yaml');
    writeFileSync(file, ['apiVersion: batchgrid/v1', 'kind: Pipeline', 'name: p', 'stages:', '  - id: a', '    task: noop', `    params: { blob: "${'x'.repeat(307_189)}" }`, ''].join('\n'));
    expect(await validateFile(file, {}, io)).toBe(1);
    expect(io.stderr).toBe(`${file}:7: stages[0].params: 307,200 bytes, over the limit of 65,536 bytes (a task message must fit SQS's 256 KiB)\n1 problem in ${file}\n`);
  });

  test('register adds `validate <file> [--json]`', () => {
    const program = new Command('batchgrid');
    register(program);
    const command = program.commands.find((c) => c.name() === 'validate');
    expect(command?.registeredArguments.map((a) => a.name())).toEqual(['file']);
    expect(command?.options.map((o) => o.long)).toEqual(['--json']);
  });
});
