/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and ranks where the time went:
 * self time by function, and inclusive time of the project's own functions,
 * so a slow path can be traced to the line that starts it.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Hotspot {
  readonly fn: string;
  readonly where: string;
  readonly ms: number;
  /** Share of the busy (non-idle) time. */
  readonly share: number;
}

export interface ProfileSummary {
  readonly busyMs: number;
  readonly idleMs: number;
  readonly selfTop: readonly Hotspot[];
  readonly ownInclusiveTop: readonly Hotspot[];
  readonly byPackage: readonly { readonly name: string; readonly ms: number; readonly share: number }[];
}

/** `own` picks the project's files by URL (e.g. /dist\/(gateway|devices)\//). */
export function summariseProfile(file: string, own: RegExp, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const packages = new Map<string, number>();
  let idleMs = 0;
  let busyMs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const leaf = byId.get(profile.samples[i]!);
    if (!leaf) continue;
    if (leaf.callFrame.functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    busyMs += ms;
    const leafKey = keyOf(leaf);
    self.set(leafKey, (self.get(leafKey) ?? 0) + ms);
    const pkg = packageOf(leaf.callFrame.url, leaf.callFrame.functionName, own);
    packages.set(pkg, (packages.get(pkg) ?? 0) + ms);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const node = byId.get(id)!;
      if (!own.test(node.callFrame.url)) continue;
      const key = keyOf(node);
      if (seen.has(key)) continue; // recursion counts once
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + ms);
    }
  }
  const rank = (m: Map<string, number>): Hotspot[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, ms]) => {
        const [fn, where] = key.split('\u0000') as [string, string];
        return { fn, where, ms, share: ms / busyMs };
      });
  return {
    busyMs,
    idleMs,
    selfTop: rank(self),
    ownInclusiveTop: rank(inclusive),
    byPackage: [...packages.entries()].sort((a, b) => b[1] - a[1]).map(([name, ms]) => ({ name, ms, share: ms / busyMs })),
  };
}

function keyOf(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const file = url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/');
  return `${functionName || '(anonymous)'}\u0000${file ? `${file}:${lineNumber + 1}` : '(native)'}`;
}

function packageOf(url: string, fn: string, own: RegExp): string {
  if (own.test(url)) return 'weir (dist/gateway, dist/devices)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.startsWith('node:')) return 'node core (JS)';
  if (url === '') return fn.startsWith('(') ? fn : 'native / builtins';
  return url.replace(/^file:\/\//, '');
}
