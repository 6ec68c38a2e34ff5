/**
 * firmware-sim's public API: the command for the gateway's CLI, the fleet
 * runner tests and benchmarks drive, and the pieces a caller may compose.
 */
export { registerSimCommand } from './cli/register.js';
export { runSim, type SimCommandOptions, type SimIo } from './cli/run-sim.js';
export { runSimRecord, runSimReplay, type RecordCommandOptions, type ReplayCommandOptions } from './cli/record-replay.js';
export { startFleet, type Fleet, type FleetOptions } from './run/fleet.js';
export { generate, DEFAULT_GENERATE_EPOCH, type GenerateOptions } from './run/generate.js';
export type { StatsSnapshot, FaultCount } from './run/stats.js';
export type { Percentiles } from './run/histogram.js';
export { loadScenarioFile, loadScenarioText, type LoadResult, type LoadOptions } from './scenario/load.js';
export { planScenario, type SimPlan, type DeviceSpec, type PlannedEvent } from './scenario/plan.js';
export { Scenario, FleetEntry, MqttSettings } from './scenario/schema.js';
export { SimEvent, FAULT_KINDS } from './scenario/events.js';
export { SignalSpec, SignalStep } from './signals/schema.js';
export { compileSignal, type Sampler } from './signals/compile.js';
export { quickPlan, type QuickOptions } from './cli/quick.js';
export { parseRate } from './cli/options.js';
export { recordScenario, recordMqtt } from './record/record.js';
export { replayNdjson, type ReplayOptions, type ReplayResult } from './record/replay.js';
export { parseLine, formatLine, type ReadingLine } from './record/ndjson.js';
export { mulberry32, fork, gaussian } from './random.js';
export type { GpioDriver } from './transport/gpio-link.js';
export type { Outgoing } from './fleet/device.js';
export { SimError, SIM_ERROR_CODES, type SimErrorCode } from './errors.js';
