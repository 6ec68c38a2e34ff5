/** Who may open a device node: its mode and group, and whether this process can. */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';

export interface NodeAccess {
  readonly mode: string;
  readonly group: string;
  readonly gid: number;
  readonly readWrite: boolean;
  readonly inGroup: boolean;
}

export type CanAccess = (path: string) => boolean;

export const canReadWrite: CanAccess = (path) => {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
};

/** Group names by gid from an /etc/group-format file. */
export function groupNames(groupFile = '/etc/group'): Map<number, string> {
  const names = new Map<number, string>();
  try {
    for (const line of readFileSync(groupFile, 'utf8').split('\n')) {
      const [name, , gid] = line.split(':');
      if (name && gid) names.set(Number(gid), name);
    }
  } catch {
    // no group file: numbers will do
  }
  return names;
}

export function nodeAccess(path: string, groups: Map<number, string>, canAccess: CanAccess): NodeAccess | undefined {
  let st;
  try {
    st = statSync(path);
  } catch {
    return undefined;
  }
  const bits = st.mode & 0o777;
  const rwx = (n: number) => `${n & 4 ? 'r' : '-'}${n & 2 ? 'w' : '-'}${n & 1 ? 'x' : '-'}`;
  const mine = process.getgroups?.() ?? [];
  return {
    mode: `${st.isCharacterDevice() ? 'c' : '-'}${rwx(bits >> 6)}${rwx((bits >> 3) & 7)}${rwx(bits & 7)}`,
    group: groups.get(st.gid) ?? String(st.gid),
    gid: st.gid,
    readWrite: canAccess(path),
    inGroup: mine.includes(st.gid),
  };
}

/** The fix for a node this user cannot open, in words an operator can paste. */
export function groupAdvice(a: NodeAccess, user = process.env.USER ?? 'weir'): string {
  if (a.readWrite) return '';
  if (a.inGroup) return `; group ${a.group} is set but not in effect: log in again or restart the service`;
  return `; add the user to group ${a.group}: sudo usermod -aG ${a.group} ${user} (then log in again / restart weir)`;
}
