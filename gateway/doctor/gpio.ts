/**
 * GPIO this board offers: sysfs chips with their number base (Bookworm moved
 * it to 512/571, so BCM 17 is sysfs 588 on a Pi 5), character devices for the
 * libgpiod tools, and whether weir may use either.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding } from './finding.js';
import { canReadWrite, groupAdvice, groupNames, nodeAccess, type CanAccess } from './access.js';
import { listSysfsChips, pickChip, SYSFS_GPIO_ROOT } from '../../devices/gpio/sysfs-offset.js';

export interface GpioProbeOptions {
  /** Configured pins: without any, missing GPIO is only worth a note. */
  readonly pins: number;
  readonly chip?: string;
  readonly sysfsRoot?: string;
  readonly devDir?: string;
  readonly groupFile?: string;
  readonly canAccess?: CanAccess;
  /** Path or name of gpiodetect. */
  readonly gpiodetect?: string;
}

export function probeGpio(options: GpioProbeOptions): Finding[] {
  const root = options.sysfsRoot ?? SYSFS_GPIO_ROOT;
  const dev = options.devDir ?? '/dev';
  const groups = groupNames(options.groupFile);
  const canAccess = options.canAccess ?? canReadWrite;
  const findings: Finding[] = [];
  let usable = false;

  const chips = listSysfsChips(root);
  if (chips.length > 0) {
    const picked = pickChip(chips, options.chip);
    const list = chips.map((c) => `${c.name} [${c.label}] base ${c.base}, ${c.ngpio} lines`).join('; ');
    if ('problem' in picked) findings.push({ check: 'gpio.sysfs', status: 'warn', detail: `${list}; ${picked.problem}` });
    else {
      const exportAccess = nodeAccess(join(root, 'export'), groups, canAccess);
      const writable = exportAccess?.readWrite ?? false;
      usable ||= writable;
      const offset = `BCM pin N is sysfs ${picked.chip.base}+N (BCM 17 = ${picked.chip.base + 17}) on ${picked.chip.label}`;
      findings.push({
        check: 'gpio.sysfs',
        status: writable ? 'ok' : 'warn',
        detail: `${offset}; chips: ${list}${writable ? '' : `; ${root}/export is not writable${exportAccess ? groupAdvice(exportAccess) : ''}`}`,
      });
    }
  }

  const nodes = list(dev).filter((n) => /^gpiochip\d+$/.test(n)).sort();
  const tools = nodes.length > 0 && hasTools(options.gpiodetect);
  for (const name of nodes) {
    const a = nodeAccess(join(dev, name), groups, canAccess);
    if (!a) continue;
    usable ||= a.readWrite && tools;
    findings.push({
      check: 'gpio.chardev',
      status: a.readWrite ? 'ok' : 'warn',
      detail: `${dev}/${name}: ${a.mode} group ${a.group}${a.readWrite ? ', readable and writable' : `, not accessible${groupAdvice(a)}`}`,
    });
  }
  if (nodes.length > 0 && !tools) {
    findings.push({ check: 'gpio.tools', status: chips.length > 0 ? 'ok' : 'warn', detail: 'libgpiod tools not installed (apt install gpiod); needed only where sysfs GPIO is absent' });
  }
  if (chips.length === 0 && nodes.length === 0) {
    findings.push({
      check: 'gpio',
      status: options.pins > 0 ? 'fail' : 'ok',
      detail: `no GPIO on this machine (${root} and ${dev}/gpiochip* absent)${options.pins > 0 ? `; ${options.pins} configured pins will be disabled` : ''}`,
    });
  } else if (!usable && options.pins > 0) {
    findings.push({ check: 'gpio', status: 'fail', detail: `GPIO exists but this user cannot use it; ${options.pins} configured pins will be disabled` });
  }
  return findings;
}

function hasTools(gpiodetect = 'gpiodetect'): boolean {
  return spawnSync(gpiodetect, [], { timeout: 3000, stdio: 'ignore' }).error === undefined;
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
