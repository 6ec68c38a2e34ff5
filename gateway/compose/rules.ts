/**
 * The rules engine, composed: readings in, alert transitions and derived
 * readings out to the broker (event + retained state topics), the durable
 * buffer (alerts ride its priority lane) and each rule's own actions.
 * Rule files hot-reload: the new set is validated whole before it replaces
 * the old one; state of unchanged rules is kept.
 */
import { existsSync, statSync, watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Clock, PipelineRecord } from '../core/contracts.js';
import type { AlertRecord, ReadingRecord } from '../core/records.js';
import { formatProblem } from '../core/yaml-source.js';
import { parseDuration } from '../core/units.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ReadingConsumer } from '../ingest/pipeline.js';
import { createRuleEngine, buildActions, mqttTopicsFor, createWebhookAction, acceptsState, type AlertAction, type CompiledRule, type RuleEngine } from '../../rules/index.js';
import type { RulesConfig } from './rules-config.js';
import { expandRuleFiles, loadConfiguredRules } from './rule-files.js';
import { watchRuleMetrics } from './rule-metrics.js';

/** Most rules have no actions of their own: one shared empty list, not a new one per alert. */
const NO_ACTIONS: readonly AlertAction[] = [];

export type Publish = (topic: string, payload: string, options: { qos: 0 | 1; retain: boolean }) => unknown;

export interface RulesRuntime {
  readonly consume: ReadingConsumer;
  /** Validates every rule file and swaps the set in; on any problem the running rules stay. */
  reload(): Promise<RulesReload>;
  status(): { rules: number; files: string[]; lastReload: RulesReload | null };
  stop(): Promise<void>;
}

export type RulesReload =
  | { ok: true; at: string; added: readonly string[]; changed: readonly string[]; removed: readonly string[]; kept: readonly string[] }
  | { ok: false; at: string; problems: string[] };

export interface RulesOptions {
  readonly config: RulesConfig;
  readonly baseDir: string;
  readonly clock: Clock;
  readonly nextId: () => string;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Publishes on the embedded broker (or the external one); undefined when there is none. */
  readonly publish: () => Publish | undefined;
  /** The durable buffer's append, when sinks are configured. */
  readonly forward: ((records: readonly PipelineRecord[]) => Promise<void>) | undefined;
  /** Derived readings are also republished like ingested ones. */
  readonly republish: ReadingConsumer | undefined;
  readonly actuator?: (name: string, value: string | number | boolean) => Promise<void>;
}

/** Loads the configured rules (throws nothing: problems were reported by `weir check` and at boot). */
export function startRules(o: RulesOptions, initial: readonly CompiledRule[]): RulesRuntime {
  const log = o.log;
  let actions = new Map<string, AlertAction[]>();
  const abort = new AbortController();
  let lastReload: RulesReload | null = null;

  const setActions = (rules: readonly CompiledRule[]) => {
    const built = buildActions(rules, {
      webhook: (spec) => createWebhookAction(spec),
      mqtt: (spec) => mqttAction(spec, o.publish),
      ...(o.actuator ? { actuator: (spec) => actuatorAction(spec, o.actuator!) } : {}),
    });
    for (const m of built.missing) log.warn(`Rule action unavailable on this gateway: ${m}`);
    actions = built.actions;
  };

  const onAlert = (alert: AlertRecord) => {
    const publish = o.publish();
    if (publish) {
      const topics = mqttTopicsFor(alert, { topic: o.config.alerts.topic });
      const body = JSON.stringify(alert);
      publish(topics.event, body, { qos: o.config.alerts.qos, retain: false });
      if (o.config.alerts.retainState) publish(topics.state, body, { qos: o.config.alerts.qos, retain: true });
    }
    for (const action of actions.get(alert.rule) ?? NO_ACTIONS) {
      if (!action.accepts(alert)) continue;
      action.run(alert, abort.signal).then((outcome) => {
        if (!outcome.ok) log.warn({ rule: alert.rule, action: action.kind, reason: outcome.reason, attempts: outcome.attempts }, 'An alert action failed.');
      });
    }
  };

  const emit = (record: PipelineRecord) => {
    if (record.kind === 'alert') {
      // the log line's object is built only when info is on (a gateway logs at warn under load)
      if (log.isLevelEnabled('info')) log.info({ rule: record.rule, key: record.key, state: record.state, severity: record.severity }, record.message);
      onAlert(record);
    } else {
      o.republish?.([record], { source: record.source, address: record.device, payload: Buffer.alloc(0), receivedAt: record.receivedAt });
    }
    // upstream through the durable buffer; alerts take its priority lane
    o.forward?.([record]).catch((e: unknown) => log.error({ err: e, kind: record.kind }, 'Could not buffer a rule output; it is lost.'));
  };

  const limits = { maxKeysPerRule: o.config.maxKeysPerRule, idleTtlMs: parseDuration(o.config.idleTtl) };
  const engine: RuleEngine = createRuleEngine({
    rules: initial,
    clock: o.clock,
    emit,
    nextId: o.nextId,
    limits,
    onError: (e) => log.warn({ rule: e.rule, key: e.key, err: e.error, suppressed: e.suppressed }, 'A rule failed to evaluate a reading.'),
  });
  setActions(initial);
  const unwatchMetrics = watchRuleMetrics(o.metrics, () => engine.stats());

  const reload = async (): Promise<RulesReload> => {
    const at = new Date().toISOString();
    const loaded = loadConfiguredRules(o.config.files, o.baseDir);
    if (!loaded.ok) {
      lastReload = { ok: false, at, problems: loaded.problems.map(formatProblem) };
      log.warn({ problems: lastReload.problems }, 'Rule reload refused: the running rules stay as they were.');
      return lastReload;
    }
    const summary = engine.replace(loaded.rules);
    setActions(loaded.rules);
    lastReload = { ok: true, at, ...summary };
    log.info(summary, 'Rules reloaded.');
    return lastReload;
  };

  const watchers = o.config.watch ? watchRuleDirs(o.config.files, o.baseDir, () => void reload(), log) : [];

  return {
    consume: (readings: readonly ReadingRecord[]) => {
      for (const r of readings) engine.process(r);
    },
    reload,
    status: () => ({ rules: engine.rules().length, files: expandRuleFiles(o.config.files, o.baseDir), lastReload }),
    async stop() {
      for (const w of watchers) w.close();
      unwatchMetrics();
      abort.abort();
      engine.close();
    },
  };
}

/** Watches the directories of the rule files (editors replace files, so watching the file itself misses saves). */
function watchRuleDirs(patterns: readonly string[], baseDir: string, onChange: () => void, log: Logger): FSWatcher[] {
  const dirs = new Set(expandRuleFiles(patterns, baseDir).map((f) => dirname(f)));
  // the fixed part of each glob too, so the first file dropped into an empty rules/ is seen
  for (const p of patterns) {
    const fixed = resolve(baseDir, p.split('/').filter((_, i, all) => !all.slice(0, i + 1).some((l) => /[*?[{]/.test(l))).join('/') || '.');
    if (existsSync(fixed) && statSync(fixed).isDirectory()) dirs.add(fixed);
  }
  let timer: NodeJS.Timeout | undefined;
  const debounced = () => {
    clearTimeout(timer);
    // an editor's save is several events; reload once they settle
    timer = setTimeout(onChange, 200);
    timer.unref();
  };
  const watchers: FSWatcher[] = [];
  for (const dir of dirs) {
    try {
      const w = watch(dir, (_event, name) => {
        if (name && /\.ya?ml$/.test(name)) debounced();
      });
      w.on('error', (e) => log.warn({ err: e, dir }, 'Stopped watching a rules directory.'));
      watchers.push(w);
    } catch (e) {
      log.warn({ err: e, dir }, 'Cannot watch a rules directory; reload with SIGHUP or POST /api/rules/reload.');
    }
  }
  return watchers;
}

function mqttAction(spec: { topic?: string; stateTopic?: string; qos: 0 | 1; on?: ('raise' | 'clear')[] }, publish: () => Publish | undefined): AlertAction {
  return {
    kind: 'mqtt',
    accepts: (alert) => acceptsState(spec.on, alert),
    async run(alert) {
      const p = publish();
      if (!p) return { ok: false, attempts: 1, retriable: false, reason: 'no broker to publish on' };
      const topics = mqttTopicsFor(alert, spec);
      const body = JSON.stringify(alert);
      p(topics.event, body, { qos: spec.qos, retain: false });
      p(topics.state, body, { qos: spec.qos, retain: true });
      return { ok: true, attempts: 1 };
    },
  };
}

function actuatorAction(
  spec: { name: string; onRaise?: string | number | boolean; onClear?: string | number | boolean },
  actuate: (name: string, value: string | number | boolean) => Promise<void>,
): AlertAction {
  return {
    kind: 'actuator',
    accepts: (alert) => (alert.state === 'raise' ? spec.onRaise !== undefined : spec.onClear !== undefined),
    async run(alert) {
      const value = alert.state === 'raise' ? spec.onRaise! : spec.onClear!;
      try {
        await actuate(spec.name, value);
        return { ok: true, attempts: 1 };
      } catch (e) {
        return { ok: false, attempts: 1, retriable: false, reason: (e as Error).message };
      }
    },
  };
}
