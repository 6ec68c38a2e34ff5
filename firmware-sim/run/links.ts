/**
 * Gives every device its link: an MQTT connection of its own (or a shared one
 * in load mode), a pty pair or a given port for serial devices, a chip line
 * for GPIO, or one capture link for offline runs.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Outgoing, SimDevice } from '../fleet/device.js';
import { fork } from '../random.js';
import type { SimPlan } from '../scenario/plan.js';
import { SimError } from '../errors.js';
import { CaptureLink, GpioLink, type GpioDriver } from '../transport/gpio-link.js';
import type { Link, LinkEvents } from '../transport/link.js';
import { MqttLink } from '../transport/mqtt-link.js';
import { PtyPair } from '../transport/pty.js';
import { SerialLink } from '../transport/serial-link.js';

export interface LinkOptions {
  readonly mqttUrl?: string;
  readonly serialPath?: string;
  readonly gpio?: GpioDriver;
  readonly capture?: (out: Outgoing) => void;
  /** Serial bytes from the gateway, per device (poll requests). */
  readonly onSerialData: (device: SimDevice, chunk: Buffer) => void;
}

export interface Wiring {
  readonly links: Link[];
  readonly linkOf: Map<string, Link>;
  /** Device id -> the port path the gateway should open. */
  readonly serialPaths: Map<string, string>;
}

export function wireLinks(plan: SimPlan, devices: readonly SimDevice[], events: LinkEvents, o: LinkOptions): Wiring {
  const links: Link[] = [];
  const linkOf = new Map<string, Link>();
  const serialPaths = new Map<string, string>();
  if (o.capture) {
    const capture = new CaptureLink('capture', o.capture);
    links.push(capture);
    for (const d of devices) linkOf.set(d.id, capture);
    return { links, linkOf, serialPaths };
  }

  const mqttDevices = devices.filter((d) => d.spec.transport === 'mqtt');
  if (mqttDevices.length > 0) {
    const url = o.mqttUrl ?? plan.mqtt.url;
    if (!url) throw new SimError('NO_BROKER', `${mqttDevices.length} MQTT device(s) but no broker: set mqtt.url in the scenario or pass --mqtt`);
    const shared = plan.mqtt.connections;
    const make = (name: string, device: string) => new MqttLink({ name, url, device, settings: plan.mqtt, random: fork(plan.seed, name, 'backoff'), events });
    if (shared !== undefined) {
      const pool = Array.from({ length: Math.min(shared, mqttDevices.length) }, (_, k) => make(`sim-link-${k + 1}`, `sim-link-${k + 1}`));
      links.push(...pool);
      mqttDevices.forEach((d, i) => linkOf.set(d.id, pool[i % pool.length]!));
    } else {
      for (const d of mqttDevices) {
        const link = make(d.id, d.id);
        links.push(link);
        linkOf.set(d.id, link);
      }
    }
  }

  const serialDevices = devices.filter((d) => d.spec.transport === 'serial');
  const unbound = serialDevices.filter((d) => d.spec.serialPath === undefined);
  if (o.serialPath !== undefined && unbound.length === 0) throw new SimError('BAD_OPTION', '--serial names a port but no serial device would use it');
  if (o.serialPath !== undefined && unbound.length > 1) {
    throw new SimError('BAD_OPTION', `--serial names one port but the scenario has ${unbound.length} serial devices without a serial.path`);
  }
  let ptyDir: string | undefined;
  for (const d of serialDevices) {
    const t = d.spec.profile.transport;
    const baud = t?.kind === 'serial' ? (t.baud ?? 9600) : 9600;
    const given = d.spec.serialPath ?? o.serialPath;
    let pty: PtyPair | undefined;
    if (given === undefined) {
      ptyDir ??= plan.serialDir ?? mkdtempSync(join(tmpdir(), 'weir-sim-'));
      pty = new PtyPair(ptyDir, d.id);
    }
    serialPaths.set(d.id, pty ? pty.device : given!);
    const link = new SerialLink({
      name: d.id,
      path: pty ? pty.peer : given!,
      ...(pty ? { pty } : {}),
      baud,
      events,
      preamble: () => d.preamble(),
      onData: (chunk) => o.onSerialData(d, chunk),
    });
    links.push(link);
    linkOf.set(d.id, link);
  }

  for (const d of devices.filter((x) => x.spec.transport === 'gpio')) {
    if (!o.gpio) throw new SimError('NO_GPIO_CHIP', `device ${d.id} is a GPIO device; pass an in-memory chip to startFleet({ gpio })`);
    const link = new GpioLink(d.id, o.gpio, d.spec.gpioPin ?? 0);
    links.push(link);
    linkOf.set(d.id, link);
  }
  return { links, linkOf, serialPaths };
}
