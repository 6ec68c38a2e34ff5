/**
 * Topic ACLs as Mosquitto users know them: entries grant `read` (subscribe),
 * `write` (publish) or `readwrite` on a topic filter, optionally for one user;
 * `deny` overrides every grant. `%u` is the username and `%c` the client id.
 *
 * Why a username cannot widen its access: placeholders are never pasted into
 * the filter text and re-parsed. Each ACL level is parsed once, and a level
 * holding `%u`/`%c` is filled in per client as one *literal* level. A value
 * that is empty, missing (anonymous `%u`) or contains `/`, `+`, `#` or NUL
 * could only name more levels or act as a wildcard, so:
 *   - a grant needing such a value does not apply to that client at all;
 *   - a deny needing one is widened to everything from that level down
 *     (as if the level were `#`), so it still covers its literal meaning.
 * Either way the result never allows more than the literal text would.
 */
import type { AclEntry } from '../../config/schema.js';
import { WeirError } from '../../core/errors.js';
import type { ClientIdentity } from './access-control.js';
import { ANONYMOUS_USER } from './users-file.js';
import { covers, intersects, isValidTopicFilter, isValidTopicName, matchesTopic, toFilter, type Filter } from './topic-filter.js';

/**
 * Topics no client may publish to besides every `$` topic: the gateway's own
 * output, which consumers must be able to trust. The composition root passes
 * its configured republish and alert topics instead of these defaults.
 */
export const DEFAULT_RESERVED_PUBLISH_FILTERS: readonly string[] = Object.freeze(['weir/readings/#', 'weir/alerts/#']);

export interface AclOptions {
  readonly reservedPublish?: readonly string[];
}

type Placeholder = { readonly placeholder: 'u' | 'c' };
type Level = string | { readonly parts: readonly (string | Placeholder)[] };

interface Rule {
  readonly read: boolean;
  readonly write: boolean;
  readonly deny: boolean;
  readonly levels: readonly Level[];
  /** The filter itself when it has no placeholders, so most checks allocate nothing. */
  readonly fixed: Filter | undefined;
}

export interface AclProblem {
  /** Index into `broker.auth.acl`. */
  readonly index: number;
  readonly message: string;
}

/** Problems the config loader can report at load time with the entry's position. */
export function checkAclEntries(entries: readonly AclEntry[]): AclProblem[] {
  const problems: AclProblem[] = [];
  entries.forEach((entry, index) => {
    if (!isValidTopicFilter(entry.topic)) problems.push({ index, message: `"${entry.topic}" is not a valid topic filter` });
    if (entry.user === '') problems.push({ index, message: 'user is empty; omit it to mean every client' });
  });
  return problems;
}

export class Acl {
  /** undefined: no `acl` configured, so anything not reserved is allowed. */
  readonly #everyone: readonly Rule[] | undefined;
  readonly #anonymous: readonly Rule[];
  readonly #byUser: ReadonlyMap<string, readonly Rule[]>;
  readonly #reserved: readonly Filter[];

  constructor(entries: readonly AclEntry[] | undefined, options: AclOptions = {}) {
    const problems = entries ? checkAclEntries(entries) : [];
    const reserved = options.reservedPublish ?? DEFAULT_RESERVED_PUBLISH_FILTERS;
    for (const r of reserved) if (!isValidTopicFilter(r)) problems.push({ index: -1, message: `reserved topic "${r}" is not a valid topic filter` });
    if (problems.length > 0) {
      const lines = problems.map((p) => (p.index >= 0 ? `broker.auth.acl[${p.index}]: ${p.message}` : p.message));
      throw new WeirError('CONFIG_INVALID', lines.join('\n'));
    }
    this.#reserved = reserved.map(toFilter);
    const anonymous: Rule[] = [];
    const byUser = new Map<string, Rule[]>();
    const everyone: Rule[] = [];
    for (const entry of entries ?? []) {
      const rule = compileRule(entry);
      if (entry.user === undefined) everyone.push(rule);
      else if (entry.user === ANONYMOUS_USER) anonymous.push(rule);
      else byUser.set(entry.user, [...(byUser.get(entry.user) ?? []), rule]);
    }
    this.#everyone = entries ? everyone : undefined;
    this.#anonymous = anonymous;
    this.#byUser = byUser;
  }

  canPublish(identity: ClientIdentity, topic: string): boolean {
    if (!isValidTopicName(topic)) return false;
    // The broker owns `$` topics (`$SYS/...`); clients may read but never write them.
    if (topic.startsWith('$')) return false;
    // this runs for every publish: no split of the topic, and no closure unless an ACL is configured
    for (const r of this.#reserved) if (matchesTopic(r, topic)) return false;
    if (this.#everyone === undefined) return true;
    return this.#decide(identity, 'write', (f) => matchesTopic(f, topic));
  }

  /**
   * A subscription must be covered by a single read grant and must not overlap
   * any deny: aedes then forwards exactly what the ACL allows, with no
   * per-message check, retained messages included.
   */
  canSubscribe(identity: ClientIdentity, filter: string): boolean {
    if (!isValidTopicFilter(filter)) return false;
    const sub = toFilter(filter);
    return this.#decide(
      identity,
      'read',
      (f) => covers(f, sub),
      (f) => intersects(f, sub),
    );
  }

  #decide(identity: ClientIdentity, want: 'read' | 'write', granted: (f: Filter) => boolean, denied: (f: Filter) => boolean = granted): boolean {
    if (this.#everyone === undefined) return true;
    const own = identity.username === undefined ? this.#anonymous : (this.#byUser.get(identity.username) ?? []);
    let grant = false;
    for (const rules of [this.#everyone, own]) {
      for (const rule of rules) {
        if (rule.deny) {
          const f = resolve(rule, identity);
          if (f && denied(f)) return false;
        } else if (!grant && rule[want]) {
          const f = resolve(rule, identity);
          grant = f !== undefined && granted(f);
        }
      }
    }
    return grant;
  }
}

function compileRule(entry: AclEntry): Rule {
  const levels: Level[] = entry.topic.split('/').map((text) => {
    if (!/%[uc]/.test(text)) return text;
    const parts = text.split(/(%[uc])/).filter((p) => p !== '').map((p) => (p === '%u' ? { placeholder: 'u' as const } : p === '%c' ? { placeholder: 'c' as const } : p));
    return { parts };
  });
  const fixed = levels.every((l) => typeof l === 'string') ? toFilter(entry.topic) : undefined;
  const access = entry.access;
  return {
    read: access === 'read' || access === 'readwrite',
    write: access === 'write' || access === 'readwrite',
    deny: access === 'deny',
    levels,
    fixed,
  };
}

const UNSAFE_VALUE = /[/+#\u0000]/;

/** The rule's filter for this client, or undefined when a grant cannot apply to it. */
function resolve(rule: Rule, identity: ClientIdentity): Filter | undefined {
  if (rule.fixed) return rule.fixed;
  const levels: string[] = [];
  for (const level of rule.levels) {
    if (typeof level === 'string') {
      levels.push(level);
      continue;
    }
    let text = '';
    for (const part of level.parts) {
      const value = typeof part === 'string' ? part : part.placeholder === 'u' ? identity.username : identity.clientId;
      if (typeof part !== 'string' && (value === undefined || value === '' || UNSAFE_VALUE.test(value))) {
        if (!rule.deny) return undefined;
        levels.push('#');
        // Over-wide on purpose, including `$` topics the literal might have named.
        return { levels, matchesDollar: true };
      }
      text += value;
    }
    levels.push(text);
  }
  return { levels, matchesDollar: false };
}
