// The commands component's one public entry: commands to devices, stored, sent, followed and checked.
export {
  COMMAND_ERRORS,
  CommandError,
  isCommandError,
  type CommandErrorCode,
  type CommandProblem,
} from './errors.ts';
export {
  CommandRequest,
  CommandTarget,
  createCommandService,
  DEFAULT_EXPIRY,
  type CommandService,
  type CommandServiceDeps,
  type DeadAck,
} from './service.ts';
export {
  openCommandStore,
  type CommandEvent,
  type CommandFilter,
  type CommandRecord,
  type CommandStore,
} from './store.ts';
