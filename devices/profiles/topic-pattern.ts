/**
 * Topic patterns with named segments: `sensors/{device}/{metric}`.
 * A `{name}` segment matches exactly one topic level; a trailing `#` matches
 * the rest. Patterns compile once; matching walks the topic once, no regex and
 * no split (it runs for every message).
 */
export interface TopicPattern {
  readonly source: string;
  /** The MQTT subscription filter that covers the pattern (`sensors/+/+`). */
  readonly filter: string;
  readonly names: readonly string[];
  match(topic: string): Record<string, string> | undefined;
}

type Segment = { literal: string } | { name: string } | { rest: true };

export function compileTopicPattern(pattern: string): TopicPattern {
  const problem = topicPatternProblem(pattern);
  if (problem) throw new TypeError(problem);
  const segments: Segment[] = pattern.split('/').map((s) => {
    if (s === '#') return { rest: true };
    const named = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(s);
    if (named) return { name: named[1]! };
    if (s === '+') return { name: '' };
    return { literal: s };
  });
  const names = segments.flatMap((s) => ('name' in s && s.name ? [s.name] : []));
  const filter = segments.map((s) => ('literal' in s ? s.literal : 'rest' in s ? '#' : '+')).join('/');
  const hasRest = segments.at(-1) !== undefined && 'rest' in segments.at(-1)!;
  const fixedLength = hasRest ? segments.length - 1 : segments.length;

  return {
    source: pattern,
    filter,
    names,
    match(topic: string) {
      // [MQTT-4.7.2-1] wildcards at the first level must not match topics starting with '$'
      if (topic.startsWith('$') && !('literal' in segments[0]!)) return undefined;
      const params: Record<string, string> = {};
      let at = 0; // where the topic's next level starts; past the end once every level is consumed
      for (let i = 0; i < fixedLength; i++) {
        if (at > topic.length) return undefined; // fewer levels than the pattern
        let end = topic.indexOf('/', at);
        if (end < 0) end = topic.length;
        const seg = segments[i]!;
        if ('literal' in seg) {
          if (end - at !== seg.literal.length || !topic.startsWith(seg.literal, at)) return undefined;
        } else if ('name' in seg) {
          if (end === at) return undefined;
          if (seg.name) params[seg.name] = topic.slice(at, end);
        }
        at = end + 1;
      }
      // levels left over: only a trailing `#` takes them
      if (at <= topic.length && !hasRest) return undefined;
      return params;
    },
  };
}

/** Why a pattern is not valid, or undefined when it is. */
export function topicPatternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return 'topic pattern is empty';
  const levels = pattern.split('/');
  const seen = new Set<string>();
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level === '#') {
      if (i !== levels.length - 1) return `"#" must be the last level in ${JSON.stringify(pattern)}`;
      continue;
    }
    if (level === '+') continue;
    if (level.includes('{') || level.includes('}')) {
      const m = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(level);
      if (!m) return `level ${JSON.stringify(level)} must be a whole {name} segment`;
      if (seen.has(m[1]!)) return `segment {${m[1]}} appears twice`;
      seen.add(m[1]!);
      continue;
    }
    if (level.includes('+') || level.includes('#')) return `wildcards must fill a whole level, not ${JSON.stringify(level)}`;
  }
  return undefined;
}
