/**
 * The parts of aedes-persistence-level 9.x's on-disk layout that the queue cap reads directly:
 * outgoing:<client>:<brokerId>:<counter> holds a client's queue in age order, and
 * outgoing-id:<client>:<messageId> indexes the entries already sent. The abstract suite and the
 * restart tests fail if this drifts from the store's own key functions.
 */
import { createRequire } from 'node:module';
import type AsyncLevelPersistence from 'aedes-persistence-level/asyncPersistence.js';

type QueuedPacket = AsyncLevelPersistence.QueuedPacket;

// The codec the store writes with, resolved from the store's own folder so hoisting cannot swap versions.
const storeRequire = createRequire(createRequire(import.meta.url).resolve('aedes-persistence-level'));
const msgpack = storeRequire('msgpack-lite') as { decode(blob: Uint8Array): QueuedPacket };

export function decodeQueued(blob: Uint8Array): QueuedPacket {
  return msgpack.decode(blob);
}

function padId(id: number | null | undefined): string {
  return id == null ? 'undefined' : id.toString().padStart(16, '0');
}

function queuePrefix(clientId: string): string {
  return `outgoing:${encodeURIComponent(clientId)}:`;
}

export function queueRange(clientId: string): { gte: string; lt: string } {
  const prefix = queuePrefix(clientId);
  return { gte: prefix, lt: `${prefix.slice(0, -1)};` };
}

export function queueKey(clientId: string, packet: QueuedPacket): string {
  return `${queuePrefix(clientId)}${packet.brokerId}:${padId(packet.brokerCounter)}`;
}

export function inflightKey(clientId: string, messageId: number): string {
  return `outgoing-id:${encodeURIComponent(clientId)}:${padId(messageId)}`;
}
