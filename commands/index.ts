// The commands component's one public entry: commands to devices, stored, sent, followed and checked.
export {
  COMMAND_ERRORS,
  CommandError,
  isCommandError,
  type CommandErrorCode,
  type CommandProblem,
} from './errors.ts';
export { CommandRequest, CommandTarget, DEFAULT_EXPIRY } from './request.ts';
export {
  createCommandService,
  type CommandService,
  type CommandServiceDeps,
  type DeadAck,
} from './service.ts';
export type { CommandEvent, CommandFilter, CommandRecord, CommandStore } from './store.ts';
export { openCommandStore } from './store-sqlite.ts';
export { openPostgresCommandStore, type PostgresCommandStoreOptions } from './store-postgres.ts';
