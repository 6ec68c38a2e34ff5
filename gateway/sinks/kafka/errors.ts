/**
 * Sorts @platformatic/kafka failures into weir's delivery outcomes. The client
 * nests errors (MultipleErrors of ResponseErrors of ProtocolErrors); every leaf
 * counts. A closed table, not string matching: an error code not listed here is
 * retried, because a retry never loses data and a wrong rejection would.
 */

/** The batch can never be accepted as it is; retrying would block the sink forever. */
const REJECTED: Readonly<Record<string, string>> = {
  INVALID_TOPIC_EXCEPTION: 'the topic name is invalid',
  TOPIC_AUTHORIZATION_FAILED: 'not authorized to write to the topic',
  CLUSTER_AUTHORIZATION_FAILED: 'not authorized on the cluster (the idempotent producer needs IDEMPOTENT_WRITE)',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'not authorized for the producer id',
  INVALID_RECORD: 'the broker refused a record as invalid',
  INVALID_TIMESTAMP: 'a record timestamp is outside what the topic accepts',
  POLICY_VIOLATION: 'the broker\u2019s policy refused the request',
  UNSUPPORTED_COMPRESSION_TYPE: 'the broker does not support this compression',
  INVALID_REQUIRED_ACKS: 'the broker refused acks=all',
};

/** Too large as one request; smaller requests may pass, a single record never will. */
const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** The broker no longer agrees with the producer's id or sequence numbers: start a fresh producer. */
const PRODUCER_STATE = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
  'PRODUCER_FENCED',
]);

export type Classified =
  | { readonly kind: 'retry'; readonly reason: string; readonly resetProducer: boolean; readonly authentication: boolean }
  | { readonly kind: 'too-large'; readonly reason: string }
  | { readonly kind: 'rejected'; readonly reason: string };

/** One failure path: an error and its causes, outermost first. */
interface Leaf {
  readonly codes: ReadonlySet<string>;
  readonly apiIds: readonly string[];
  /** "Connection to ... failed: SASL_AUTHENTICATION_FAILED: SASL authentication failed." */
  readonly message: string;
}

export function classifyKafkaError(error: unknown): Classified {
  const leaves = collectLeaves(error);
  const hasApi = (ids: ReadonlySet<string> | Readonly<Record<string, string>>) =>
    leaves.flatMap((l) => l.apiIds.filter((id) => (ids instanceof Set ? ids.has(id) : id in ids)).map((id) => ({ leaf: l, id })))[0];
  const tooLarge = hasApi(TOO_LARGE);
  if (tooLarge) return { kind: 'too-large', reason: tooLarge.leaf.message };
  const rejected = hasApi(REJECTED);
  if (rejected) return { kind: 'rejected', reason: `${REJECTED[rejected.id]} (${rejected.leaf.message})` };
  return {
    kind: 'retry',
    reason: [...new Set(leaves.map((l) => l.message))].slice(0, 3).join('; ') || String(error),
    resetProducer: hasApi(PRODUCER_STATE) !== undefined,
    authentication: leaves.some((l) => l.codes.has('PLT_KFK_AUTHENTICATION') || l.apiIds.includes('SASL_AUTHENTICATION_FAILED')),
  };
}

/** The failure paths under an error: AggregateErrors fan out, causes are followed down. */
function collectLeaves(error: unknown, depth = 0): Leaf[] {
  if (!(error instanceof Error) || depth > 12) return [{ codes: new Set(), apiIds: [], message: String(error) }];
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.flatMap((e: unknown) => collectLeaves(e, depth + 1));
  const own = describe(error);
  if (error.cause === undefined) return [{ codes: own.codes, apiIds: own.apiIds, message: own.message }];
  return collectLeaves(error.cause, depth + 1).map((below) => ({
    codes: new Set([...own.codes, ...below.codes]),
    apiIds: [...own.apiIds, ...below.apiIds],
    // The client repeats a message at each level ("SASL authentication failed." twice): say it once.
    message: below.message.includes(own.message) ? below.message : `${own.message}: ${below.message}`,
  }));
}

function describe(error: Error): Leaf {
  const e = error as Error & { code?: unknown; apiId?: unknown; serverErrorMessage?: unknown };
  const apiId = typeof e.apiId === 'string' ? e.apiId : undefined;
  const server = typeof e.serverErrorMessage === 'string' && e.serverErrorMessage ? ` (${e.serverErrorMessage})` : '';
  return {
    codes: new Set(typeof e.code === 'string' ? [e.code] : []),
    apiIds: apiId ? [apiId] : [],
    message: `${apiId ? `${apiId}: ` : ''}${error.message}${server}`,
  };
}
