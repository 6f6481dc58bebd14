import { PermanentTaskError } from '../../common/errors';
import { commandProblems, expandCommand, missingVars, parseArgument, type PlaceholderValues } from '../../worker/builtin/exec-argv';
import { PlaceholderError } from '../../worker/builtin/exec-errors';

const values: PlaceholderValues = {
  inputs: ['/tmp/x/in/0/a.txt', '/tmp/x/in/1/b c.txt'],
  outputDir: '/tmp/x/out',
  part: 7,
  attempt: 2,
  jobId: 'j1',
  stageId: 'sort',
  vars: { quality: '23', 'codec.name': 'h264' },
};

describe('exec command placeholders', () => {
  test('a placeholder as a whole argument is replaced by its value', () => {
    expect(expandCommand(['sort', '-o', '{outputDir}', '{input}'], values)).toEqual(['sort', '-o', '/tmp/x/out', '/tmp/x/in/0/a.txt']);
    expect(expandCommand(['echo', '{part}', '{attempt}', '{jobId}', '{stageId}'], values)).toEqual(['echo', '7', '2', 'j1', 'sort']);
  });

  test('placeholders inside an argument are replaced in place, several per argument', () => {
    expect(expandCommand(['ffmpeg', '-i', '{input}', '{outputDir}/part-{part}.mp4', '--crf={param:quality}', '-c:v', '{param:codec.name}'], values)).toEqual([
      'ffmpeg', '-i', '/tmp/x/in/0/a.txt', '/tmp/x/out/part-7.mp4', '--crf=23', '-c:v', 'h264',
    ]);
  });

  test('{inputs} as a whole argument expands to one argument per input, paths with spaces kept whole', () => {
    expect(expandCommand(['sort', '-m', '{inputs}', '-o', '{outputDir}/all.txt'], values)).toEqual(['sort', '-m', '/tmp/x/in/0/a.txt', '/tmp/x/in/1/b c.txt', '-o', '/tmp/x/out/all.txt']);
    expect(expandCommand(['cat', '{inputs}'], { ...values, inputs: [] })).toEqual(['cat']);
  });

  test('{slot:NAME} expands to the checked slot value, literally, and belongs to templates only', () => {
    expect(expandCommand(['/usr/bin/head', '-n', '{slot:n}', 'x{slot:n}{part}'], { ...values, slots: { n: '{part}' } })).toEqual(['/usr/bin/head', '-n', '{part}', 'x{part}7']);
    expect(() => expandCommand(['x', '{slot:n}'], values)).toThrow('{slot:n} has no value');
    expect(commandProblems(['x', '{slot:n}'], 'template')).toEqual([]);
    expect(commandProblems(['x', '{param:n}'], 'template')).toEqual([{ index: 1, message: expect.stringContaining('{param:n} belongs in a raw command') }]);
    expect(commandProblems(['x', '{slot:n}'])).toEqual([{ index: 1, message: expect.stringContaining('{slot:n} belongs in a template') }]);
  });

  test('{inputs} inside a longer argument is refused with a hint', () => {
    expect(commandProblems(['cat', '--files={inputs}'])).toEqual([{ index: 1, message: expect.stringContaining('{inputs} must be a whole argument') }]);
  });

  test('an unknown placeholder is a clear, permanent error naming the known ones', () => {
    expect(() => parseArgument('{inptu}')).toThrow(PlaceholderError);
    expect(() => parseArgument('{inptu}')).toThrow(/unknown placeholder \{inptu\}: use one of \{input\}, \{inputs\}, \{outputDir\}.*\{param:NAME\}/);
    expect(new PlaceholderError('x')).toBeInstanceOf(PermanentTaskError);
    expect(commandProblems(['x', 'a{outdir}b', '{vars:q}'])).toEqual([
      { index: 1, message: expect.stringContaining('unknown placeholder {outdir}') },
      { index: 2, message: expect.stringContaining('unknown placeholder {vars:q}') },
    ]);
  });

  test('{param:NAME} without a vars entry is refused, listing the names vars has', () => {
    expect(missingVars(['x', '{param:qualty}'], ['quality'])).toEqual([{ index: 1, message: '{param:qualty} has no value: add "qualty" to vars (vars has "quality")' }]);
  });

  test('{input} on a part without inputs fails at expansion', () => {
    expect(() => expandCommand(['cat', '{input}'], { ...values, inputs: [] })).toThrow('{input} is used but this part has no inputs');
  });

  test('shell metacharacters are passed literally, never interpreted', () => {
    const nasty = ['; touch /tmp/pwned', '$(touch /tmp/pwned)', '`id`', '| cat /etc/passwd', '&& rm -rf ~', '$HOME', "'quoted' \"dq\"", '*', '~', 'a\nb', '> out', '\\'];
    expect(expandCommand(['printf', '%s', ...nasty], values)).toEqual(['printf', '%s', ...nasty]);
    expect(expandCommand(['echo', 'x;{part}$(id)'], values)).toEqual(['echo', 'x;7$(id)']);
  });

  test('brace text that is not a placeholder stays as it is; {{name}} is a literal {name}', () => {
    const literal = ['{}', '{print $1}', '{{.Id}}', '{"a":{"b":1}}', '{ input }', '{1}', 'a{', '}b', '{param:}'];
    expect(expandCommand(['x', ...literal], values)).toEqual(['x', ...literal]);
    expect(expandCommand(['x', '{{input}}', 'p{{param:quality}}q', '{{outputDir}}/{part}'], values)).toEqual(['x', '{input}', 'p{param:quality}q', '{outputDir}/7']);
    expect(commandProblems(['awk', '{print $1}', '{{nope}}'])).toEqual([]);
  });

  test('a command that expands to no program is refused', () => {
    expect(() => expandCommand(['{inputs}'], { ...values, inputs: [] })).toThrow(/expands to no program name/);
  });
});
