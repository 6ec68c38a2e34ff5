/** The rules engine's public surface; the gateway imports from here only. */
export { loadRuleFiles, loadRuleSources, MAX_RULE_FILE_BYTES, type LoadResult, type LoadedRuleFile } from './load.js';
export { RULES_JSON_SCHEMA, RuleFile, RuleDefinition, RuleTestCase } from './schema.js';
export {
  createRuleEngine,
  type RuleEngine,
  type RuleEngineOptions,
  type RuleEngineError,
  type RuleEngineStats,
  type ReplaceSummary,
  type EngineSnapshot,
} from './engine.js';
export type { RuleStats } from './rule-runtime.js';
export { DEFAULT_LIMITS, type CompiledRule, type RuleLimits, type RuleKind, type Severity } from './types.js';
export type { ActionSpec, WebhookActionSpec, MqttActionSpec, ActuatorActionSpec } from './schema-common.js';
export { runRulesTest, runTestCase, type CliStreams } from './cli-test.js';
export { runRulesReplay, parseReadingLine, type ReplayOptions } from './cli-replay.js';
export {
  buildActions,
  mqttTopicsFor,
  acceptsState,
  DEFAULT_ALERT_TOPIC,
  STATE_TOPIC_SUFFIX,
  type AlertAction,
  type ActionOutcome,
  type ActionFactories,
} from './actions.js';
export { createWebhookAction, type WebhookDeps } from './webhook.js';
