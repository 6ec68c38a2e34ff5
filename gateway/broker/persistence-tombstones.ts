/**
 * Remembers which queue entries the cap dropped, per client, so that aedes' later lookups of
 * exactly those entries can be told apart from a genuinely missing packet.
 */
export class DropTombstones {
  #perClient: number;
  #byClient = new Map<string, Set<string>>();

  /** Only the few packets aedes is about to write need one, so old tombstones can go. */
  constructor(perClient: number) {
    this.#perClient = perClient;
  }

  remember(clientId: string, token: string): void {
    let tokens = this.#byClient.get(clientId);
    if (tokens === undefined) {
      tokens = new Set();
      this.#byClient.set(clientId, tokens);
    }
    tokens.add(token);
    if (tokens.size > this.#perClient) tokens.delete(tokens.values().next().value as string);
  }

  /** True when the token was there; it is consumed. */
  forget(clientId: string, token: string): boolean {
    const tokens = this.#byClient.get(clientId);
    if (tokens === undefined || !tokens.delete(token)) return false;
    if (tokens.size === 0) this.#byClient.delete(clientId);
    return true;
  }
}
