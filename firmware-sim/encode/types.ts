/** What a simulated device measured, and the payloads it becomes. */

export interface Sample {
  readonly device: string;
  /** Counts this device's samples from 0. */
  readonly seq: number;
  /** When the sample was taken, in ms from the start of the run (what signals see). */
  readonly t: number;
  /** What the device's own clock says, epoch ms; skew faults move it away from the truth. */
  readonly ts: number;
  readonly values: Readonly<Record<string, number>>;
}

/** One payload in the model's format, before transport framing. */
export interface Body {
  /** The MQTT topic (undefined on serial and GPIO). */
  readonly topic: string | undefined;
  readonly payload: Buffer;
  /** Metrics the gateway's decoder takes from it, before the profile's `only` filter. */
  readonly metrics: readonly string[];
}

/** Fills a profile's topic pattern: `sensors/{device}/{metric}`. */
export function fillTopic(pattern: string, params: Readonly<Record<string, string>>): string {
  return pattern.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => params[name] ?? whole);
}

/** Named segments of a topic pattern. */
export function topicParams(pattern: string): string[] {
  return [...pattern.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]!);
}
