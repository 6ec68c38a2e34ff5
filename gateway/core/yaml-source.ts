/**
 * Reads a YAML file into plain data while keeping where every value came from,
 * so validation errors can point at `file:line:col`.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isSeq, isScalar, isAlias, type Node, type Document } from 'yaml';

export interface Problem {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.message}`;
}

export interface YamlSource {
  readonly file: string;
  readonly data: unknown;
  /** Where the value at a path (`['broker', 'limits', 'maxConnections']`) starts; with `key`, where its key starts. */
  locate(path: readonly (string | number)[], options?: { key?: boolean }): { line: number; col: number };
}

/** Limits a malicious or broken file (alias bombs, huge nesting) cannot pass. */
const MAX_ALIAS_COUNT = 50;

export function readYamlFile(file: string): { source?: YamlSource; problems: Problem[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { problems: [{ file, line: 1, col: 1, message: `cannot read file: ${(e as Error).message}` }] };
  }
  return parseYamlText(file, text);
}

export function parseYamlText(file: string, text: string): { source?: YamlSource; problems: Problem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const problems: Problem[] = [];
  for (const err of [...doc.errors, ...doc.warnings]) {
    const pos = lineCounter.linePos(err.pos[0]);
    problems.push({ file, line: pos.line, col: pos.col, message: firstLine(err.message) });
  }
  if (doc.errors.length > 0) return { problems };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    // yaml throws on alias amplification ("excessive alias count"); report, don't crash
    return { problems: [{ file, line: 1, col: 1, message: firstLine((e as Error).message) }] };
  }
  const locate = (path: readonly (string | number)[], options?: { key?: boolean }) => locateIn(doc, lineCounter, path, options?.key ?? false);
  return { source: { file, data: data ?? {}, locate }, problems };
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}

function locateIn(doc: Document, lc: LineCounter, path: readonly (string | number)[], atKey: boolean): { line: number; col: number } {
  let node: Node | null | undefined = doc.contents as Node | null;
  let best = node?.range?.[0] ?? 0;
  for (const [i, seg] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) break;
      // point at the key for a missing/unknown value, at the value otherwise
      const keyStart = (pair.key as Node | null)?.range?.[0];
      if (keyStart !== undefined) best = keyStart;
      if (atKey && i === path.length - 1) break;
      node = pair.value as Node | null;
      if (node?.range) best = node.range[0];
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)] as Node | undefined;
      if (!item) break;
      node = item;
      if (node.range) best = node.range[0];
    } else {
      break;
    }
  }
  const pos = lc.linePos(best);
  return { line: pos.line, col: pos.col };
}
