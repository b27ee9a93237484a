// The simulators' public entry: the Huế fleet simulator, its pure device models, and the benchmark's
// load generator.
export {
  createFleetSimulator,
  type BackfillOptions,
  type DropoutOptions,
  type FleetSimulator,
  type FleetSimulatorOptions,
  type FleetStats,
  type SimDevice,
  type SimGateway,
} from './fleet-sim.ts';
export { Credential, Credentials, loadCredentials, toSimFleet, type SimFleet } from './fleet-input.ts';
export { createLoadConn, type ConnectOutcome, type LoadConn, type LoadConnOptions } from './load-conn.ts';
export { runLoad, type LoadDevice, type LoadOptions, type LoadPublish, type LoadResult } from './load.ts';
export { createLatencyHistogram, type LatencyHistogram, type LatencySummary } from './histogram.ts';
export { devicePayload, gatewayPack, type GatewayChildReading } from './payloads.ts';
export { isSimError, SIM_ERRORS, SimError, type SimErrorCode } from './errors.ts';
export {
  createDeviceModel,
  FLOOD_SCENARIO_MS,
  EPISODE_SCENARIO,
  Scenario,
  type Model,
  type ModelSettings,
  type ModelTarget,
  type SimFields,
  type SimInstant,
} from './models/index.ts';
export { lampCsv, lampRow, LAMP_CSV_HEADER } from './lamp-list.ts';
