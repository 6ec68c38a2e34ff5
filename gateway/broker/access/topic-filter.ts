/**
 * MQTT 3.1.1 topic and topic-filter relations that the ACL needs:
 * does a filter match a topic, does one filter cover another, may two overlap.
 * A filter is its list of levels; `+` and `#` levels are wildcards, every
 * other level is literal text.
 */

export interface Filter {
  readonly levels: readonly string[];
  /**
   * Whether a wildcard first level may match a `$` topic. False for every
   * filter written by a user [MQTT-4.7.2-1]; true only for the over-wide
   * stand-in the ACL builds for a deny it cannot substitute (see acl.ts).
   */
  readonly matchesDollar: boolean;
}

const MAX_UTF8_BYTES = 65535;

/** A PUBLISH topic: non-empty, no wildcards [MQTT-3.3.2-2], no NUL [MQTT-1.5.3-2]. */
export function isValidTopicName(topic: string): boolean {
  return topic.length > 0 && !/[+#\u0000]/.test(topic) && Buffer.byteLength(topic, 'utf8') <= MAX_UTF8_BYTES;
}

/** A SUBSCRIBE filter: `#` alone and last [MQTT-4.7.1-2], `+` alone in its level [MQTT-4.7.1-3]. */
export function isValidTopicFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes('\u0000') || Buffer.byteLength(filter, 'utf8') > MAX_UTF8_BYTES) return false;
  const levels = filter.split('/');
  return levels.every((level, i) => {
    if (level === '#') return i === levels.length - 1;
    return level === '+' || !/[+#]/.test(level);
  });
}

export function toFilter(filter: string): Filter {
  return { levels: filter.split('/'), matchesDollar: false };
}

function isWildcard(level: string | undefined): boolean {
  return level === '+' || level === '#';
}

function isDollar(level: string | undefined): boolean {
  return level !== undefined && level.startsWith('$');
}

/**
 * Whether a topic name matches the filter. It walks the name level by level
 * rather than splitting it: this runs for every publish, and a split makes an
 * array and a string per level.
 */
export function matchesTopic(filter: Filter, topic: string): boolean {
  const f = filter.levels;
  // [MQTT-4.7.2-1] a filter starting with a wildcard does not match topics starting with `$`.
  if (!filter.matchesDollar && isWildcard(f[0]) && topic.startsWith('$')) return false;
  let at = 0; // where the topic's next level starts; past the end once every level is consumed
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!;
    // `#` also matches the parent level: `a/#` matches `a` [MQTT-4.7.1-2].
    if (level === '#') return true;
    if (at > topic.length) return false;
    let end = topic.indexOf('/', at);
    if (end < 0) end = topic.length;
    if (level !== '+' && (end - at !== level.length || !topic.startsWith(level, at))) return false;
    at = end + 1;
  }
  return at > topic.length;
}

/** True when every topic `sub` can match is also matched by `grant`. */
export function covers(grant: Filter, sub: Filter): boolean {
  const g = grant.levels;
  const s = sub.levels;
  // A literal `$SYS` subscription is only covered by a grant that names it.
  if (!grant.matchesDollar && isWildcard(g[0]) && isDollar(s[0]) && !isWildcard(s[0])) return false;
  for (let i = 0; i < g.length; i++) {
    if (g[i] === '#') return true;
    if (i >= s.length) return false;
    // Only `#` covers `#`: `a/+` does not cover `a/#`, which also matches `a/b/c`.
    if (s[i] === '#') return false;
    if (g[i] === '+') continue;
    if (s[i] === '+' || s[i] !== g[i]) return false;
  }
  return g.length === s.length;
}

/** True when some topic matches both filters. */
export function intersects(a: Filter, b: Filter): boolean {
  const x = a.levels;
  const y = b.levels;
  if (dollarExcludes(a, b) || dollarExcludes(b, a)) return false;
  for (let i = 0; ; i++) {
    const p = x[i];
    const q = y[i];
    if (p === '#' || q === '#') return true;
    if (p === undefined || q === undefined) return p === q;
    if (p !== '+' && q !== '+' && p !== q) return false;
  }
}

/** `wild` cannot reach any topic of `named` because they all start with `$`. */
function dollarExcludes(wild: Filter, named: Filter): boolean {
  return !wild.matchesDollar && isWildcard(wild.levels[0]) && isDollar(named.levels[0]) && !isWildcard(named.levels[0]);
}
