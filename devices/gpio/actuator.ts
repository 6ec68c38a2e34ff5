/**
 * What the rules engine's actuator action calls: switch a named output. Values
 * arrive as rule authors write them (`on`, `true`, 1, `open`); anything else is
 * refused with a reason rather than guessed.
 */
export type ActuationResult =
  | { readonly ok: true; readonly changed: boolean; readonly value: boolean }
  | { readonly ok: false; readonly code: 'UNKNOWN_OUTPUT' | 'BAD_VALUE' | 'GPIO_UNAVAILABLE' | 'WRITE_FAILED'; readonly message: string };

export interface Actuator {
  /** Names that `setOutput` accepts. */
  outputs(): readonly string[];
  /** Never throws: every failure is a result. */
  setOutput(name: string, value: boolean | number | string): Promise<ActuationResult>;
}

const ON = new Set(['on', 'true', '1', 'high', 'open', 'yes']);
const OFF = new Set(['off', 'false', '0', 'low', 'closed', 'no']);

/** true/false for a value a rule may write, undefined when it names neither. */
export function outputValue(value: boolean | number | string): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : undefined;
  const v = value.trim().toLowerCase();
  return ON.has(v) ? true : OFF.has(v) ? false : undefined;
}
