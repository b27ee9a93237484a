// The devices component's one public entry: kinds and their schemas, topics, SenML, the registry and
// the simulated Huế fleet. Other folders import from here only.
export * from './kinds.ts';
export * from './schemas.ts';
export { registryFields, withDerivedFields } from './derived.ts';
export { sunAltitudeDeg, sunPosition, type SunPosition } from './sun.ts';
export {
  createTopics,
  DEFAULT_TOPIC_PREFIX,
  isStatusPayload,
  STATUS_PAYLOADS,
  type DeviceChannel,
  type ParsedTopic,
  type Topics,
} from './topics.ts';
export {
  resolveSenml,
  SENML_RELATIVE_TIME_LIMIT_S,
  SENML_VERSION,
  type SenmlRecord,
  type SenmlResult,
} from './senml.ts';
export { REGISTRY_ERRORS, RegistryError, isRegistryError, type RegistryErrorCode } from './errors.ts';
export {
  BulkProblemSchema,
  checkRow,
  describeProblem,
  MAX_BULK_DEVICES,
  planBulk,
  rowsFromCsv,
  rowsFromList,
  type BulkPlan,
  type BulkProblem,
  type BulkRow,
} from './bulk.ts';
export {
  openRegistry,
  type ApiTokenInfo,
  type DeviceFilter,
  type OpenRegistryOptions,
  type Principal,
  type Registry,
  type ServiceAccount,
} from './registry.ts';
export { DEFAULT_FLEET_FILE, Fleet, loadFleet, seedFleet, type SeededPrincipal } from './fleet.ts';
export {
  AGENCY_ID_PATTERN,
  AgencyId,
  AgencyInput,
  Language,
  LANGUAGES,
  publicAgency,
  Receiver,
  type AgencyRecord,
  PublicAgency,
  PublicReceiver,
  type ReceiverType,
  withinWorkingHours,
  type WorkingHours,
} from './agencies.ts';
export { AgenciesFile, DEFAULT_AGENCIES_FILE, loadAgenciesFile, seedAgencies } from './agencies-file.ts';
export {
  fillTemplate,
  MessageTemplate,
  TEMPLATE_FIELDS,
  templateProblem,
  type TemplateField,
} from './message-templates.ts';
export { type Session, UserInput, UserPatch, UserRecord, USERNAME_PATTERN, type Users } from './users.ts';
export * from './commands.ts';
