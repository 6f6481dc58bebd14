import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type YAMLError } from 'yaml';
import type { PathSegments, RawProblem } from './problems';

/**
 * Definition text → plain value, plus a way to find the line of any path in it, so problems can
 * say where they are. YAML and JSON both go through yaml's `parseDocument` for positions
 * (JSON is YAML's flow syntax); JSON's value comes from `JSON.parse`, so JSON means JSON.
 */

export type SourceFormat = 'yaml' | 'json';

export interface ParsedSource {
  /** The parsed value; undefined when `problems` has syntax errors. */
  value: unknown;
  /** Syntax errors, each with its line when known. */
  problems: RawProblem[];
  /** The 1-based line of the node at `path`, or of its nearest ancestor present in the text. */
  lineOf(path: PathSegments): number | undefined;
}

/** `json` when the text starts with `{` or `[`, else `yaml`. */
export function detectFormat(text: string): SourceFormat {
  return /^\s*[{[]/.test(text) ? 'json' : 'yaml';
}

function lineAt(lineCounter: LineCounter, offset: number | undefined): number | undefined {
  return offset === undefined ? undefined : lineCounter.linePos(offset).line;
}

/** Walks the document along `path`; a map key's line is the key's own (where a reader looks). */
function locate(doc: Document, lineCounter: LineCounter, path: PathSegments): number | undefined {
  let node: unknown = doc.contents;
  let line = lineAt(lineCounter, (node as Node | null)?.range?.[0]);
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => (isScalar(item.key) ? String(item.key.value) : String(item.key)) === String(segment));
      if (pair === undefined) return line;
      line = lineAt(lineCounter, (pair.key as Node | null)?.range?.[0]) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      if (node === undefined) return line;
      line = lineAt(lineCounter, (node as Node).range?.[0]) ?? line;
    } else {
      return line;
    }
  }
  return line;
}

/**
 * Where to point for a syntax error. An unclosed quote is found at the end of the text; the
 * string that is missing it starts where the reader should look. Otherwise the error's own
 * offset, kept off the empty line after a final newline.
 */
function errorOffset(doc: Document, error: YAMLError, text: string): number {
  const at = error.pos[0];
  if (error.code === 'MISSING_CHAR' && /quote/.test(error.message)) {
    let start: number | undefined;
    visit(doc, {
      Scalar(_, node) {
        const range = node.range;
        if ((node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') && range && range[0] < at && range[1] >= at) start = range[0];
      },
    });
    if (start !== undefined) return start;
  }
  return Math.min(at, Math.max(0, text.trimEnd().length - 1));
}

function parseYaml(text: string): ParsedSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const lineOf = (path: PathSegments) => locate(doc, lineCounter, path);
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((error) => ({
      path: [],
      message: `YAML syntax error: ${error.message}`,
      line: lineAt(lineCounter, errorOffset(doc, error, text)),
    }));
    return { value: undefined, problems, lineOf };
  }
  try {
    return { value: doc.toJS({ maxAliasCount: 100 }), problems: [], lineOf };
  } catch (err) {
    return { value: undefined, problems: [{ path: [], message: `YAML error: ${err instanceof Error ? err.message : String(err)}` }], lineOf };
  }
}

/** V8 says `… at position 12` or `(line 3 column 5)` for most JSON syntax errors. */
function jsonErrorLine(text: string, message: string): number | undefined {
  const lineColumn = /\(line (\d+) column \d+\)/.exec(message);
  if (lineColumn) return Number(lineColumn[1]);
  const position = /at position (\d+)/.exec(message);
  if (position) return text.slice(0, Number(position[1])).split('\n').length;
  if (/Unexpected end of JSON input/.test(message)) return text.split('\n').length;
  return undefined;
}

function parseJson(text: string): ParsedSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const lineOf = (path: PathSegments) => (doc.errors.length > 0 ? undefined : locate(doc, lineCounter, path));
  try {
    return { value: JSON.parse(text) as unknown, problems: [], lineOf };
  } catch (err) {
    // Drop V8's quote of the whole text and, from Node 22 on, its `(line 4 column 3)`: the line says where.
    const raw = (err instanceof Error ? err.message : String(err)).replace(/, ".*" is not valid JSON$/s, '');
    const line = jsonErrorLine(text, raw) ?? (doc.errors[0] ? lineAt(lineCounter, doc.errors[0].pos[0]) : undefined);
    const message = raw.replace(/ \(line \d+ column \d+\)$/, '');
    return { value: undefined, problems: [{ path: [], message: `JSON syntax error: ${message}`, line }], lineOf };
  }
}

/** Parses definition text; `format` defaults to `detectFormat(text)`. */
export function parseSource(text: string, format: SourceFormat = detectFormat(text)): ParsedSource {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  return format === 'json' ? parseJson(body) : parseYaml(body);
}
