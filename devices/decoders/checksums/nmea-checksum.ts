/** The NMEA 0183 checksum: XOR of every byte between `$` (or `!`) and `*`, as two hex digits. */

export function nmeaChecksum(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i) & 0xff;
  return sum;
}

/** Appends `*hh` to `$...` (for simulators and tests). */
export function withNmeaChecksum(sentence: string): string {
  return `${sentence}*${nmeaChecksum(sentence.slice(1)).toString(16).toUpperCase().padStart(2, '0')}`;
}

/** Why a sentence fails its checksum, or undefined when it passes. */
export function nmeaChecksumProblem(sentence: string, required: boolean): { code: string; message: string } | undefined {
  if (sentence[0] !== '$' && sentence[0] !== '!') return { code: 'NOT_NMEA', message: 'an NMEA sentence starts with $ or !' };
  const star = sentence.lastIndexOf('*');
  if (star < 0) return required ? { code: 'NO_CHECKSUM', message: 'the sentence has no *hh checksum' } : undefined;
  const given = sentence.slice(star + 1);
  if (!/^[0-9A-Fa-f]{2}$/.test(given)) return { code: 'CHECKSUM_MISMATCH', message: `unreadable checksum ${JSON.stringify(given.slice(0, 8))}` };
  const computed = nmeaChecksum(sentence.slice(1, star));
  if (computed !== Number.parseInt(given, 16)) {
    return { code: 'CHECKSUM_MISMATCH', message: `checksum is ${given}, the sentence sums to ${computed.toString(16).toUpperCase().padStart(2, '0')}` };
  }
  return undefined;
}
