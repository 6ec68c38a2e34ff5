/**
 * `weir buffer stats` and `weir buffer inspect`: what the buffer holds and what
 * is queued for which sink. They open the buffer read-only (no lock, nothing
 * written), so they work on a stopped gateway and beside a running one.
 */
import { existsSync } from 'node:fs';
import { pino } from 'pino';
import type { BufferedRecord, BufferStats } from '../core/contracts.js';
import type { DiskBuffer } from './buffer.js';
import { bufferDir, openBufferReadOnly } from './open.js';

const quiet = pino({ level: 'silent' });

export async function runBufferStats(dataDir: string, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const dir = bufferDir(dataDir);
  if (!existsSync(dir)) return none(dir, out);
  const buffer = await openBufferReadOnly(dir, quiet);
  try {
    const s = buffer.stats();
    const now = Date.now();
    out.write(`buffer ${dir}\n`);
    out.write(`  records      ${s.records} (${s.alerts} alerts) in ${s.segments} segment(s), ${bytes(s.bytes)}\n`);
    out.write(`  oldest       ${s.oldestAppendedAt === null ? '-' : `${new Date(s.oldestAppendedAt).toISOString()} (${age(now - s.oldestAppendedAt)} ago)`}\n`);
    out.write(`  next offset  ${s.nextOffset}\n`);
    out.write(`  damage       ${damage(s)}\n`);
    out.write(table(['sink', 'cursor', 'lag', 'oldest unsent'], Object.entries(s.perSink).map(([name, p]) => [name, String(p.cursor), String(p.lag), p.oldestUnsentMs === null ? '-' : age(p.oldestUnsentMs)])));
    return 0;
  } finally {
    await buffer.close();
  }
}

export async function runBufferInspect(
  dataDir: string,
  options: { sink?: string; limit?: number },
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const dir = bufferDir(dataDir);
  if (!existsSync(dir)) return none(dir, out);
  const buffer = await openBufferReadOnly(dir, quiet);
  try {
    const limit = options.limit ?? 20;
    const s = buffer.stats();
    if (options.sink !== undefined && !s.perSink[options.sink]) {
      err.write(`no sink ${JSON.stringify(options.sink)} in ${dir} (sinks: ${buffer.sinks().join(', ') || 'none'})\n`);
      return 1;
    }
    const sinks = options.sink !== undefined ? [options.sink] : buffer.sinks();
    for (const name of sinks) {
      const p = s.perSink[name]!;
      out.write(`sink ${name}: cursor ${p.cursor}, ${p.lag} record(s) queued${p.oldestUnsentMs === null ? '' : `, oldest ${age(p.oldestUnsentMs)} old`}\n`);
    }
    if (options.sink !== undefined) {
      const next = await buffer.read(options.sink, limit);
      out.write(`next ${next.length} for ${options.sink}:\n`);
      out.write(table(['offset', 'appended', 'kind', 'id', 'record'], next.map(row)));
    } else {
      const from = Math.min(s.nextOffset, ...Object.values(s.perSink).map((p) => p.cursor));
      const next = await buffer.peek(from, limit);
      out.write(`next ${next.length} not yet delivered everywhere:\n`);
      const pendingFor = (b: BufferedRecord) => sinks.filter((n) => Number(b.offset) >= s.perSink[n]!.cursor).join(',') || '-';
      out.write(table(['offset', 'appended', 'kind', 'id', 'record', 'for'], next.map((b) => [...row(b), pendingFor(b)])));
    }
    return 0;
  } finally {
    await buffer.close();
  }
}

function none(dir: string, out: NodeJS.WritableStream): number {
  out.write(`no buffer at ${dir} yet (the gateway creates it on first start)\n`);
  return 0;
}

function row(b: BufferedRecord): string[] {
  const r = b.record;
  const what = r.kind === 'reading' ? `${r.device} ${r.metric}=${String(r.value)}${r.unit ?? ''}` : `${r.rule} ${r.state} ${r.severity} ${r.key}: ${r.message}`;
  return [String(b.offset), new Date(b.appendedAt).toISOString(), r.kind, r.id, what];
}

function damage(s: BufferStats): string {
  const r = s.recovery;
  const parts: string[] = [];
  if (r.tornTails) parts.push(`${r.tornTails} torn tail(s), ${r.truncatedBytes} bytes`);
  if (r.corruptRegions) parts.push(`${r.corruptRegions} damaged stretch(es), ${r.skippedRecords} record(s) unreadable`);
  return parts.length ? parts.join('; ') : 'none found';
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`;
  return [head, ...rows].map(line).join('');
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function age(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}
