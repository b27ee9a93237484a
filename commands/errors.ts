// Error codes of the commands component: one table, codes stable (docs/conventions.md, "Errors and logs").
// The first five are a request refused before anything is stored or sent; the ack codes are a device's
// answer dead-lettered (kept for inspection, the device's connection untouched).
import { errorClass, isErrorOf } from '../errors/index.ts';

export const COMMAND_ERRORS = {
  COMMAND_ERR_TYPE: 'no such command type: set_dim, switch, schedule, set_interval, reboot or ping',
  COMMAND_ERR_PARAMS:
    "the command's parameters do not match its type (a value out of range, a field missing)",
  COMMAND_ERR_KIND: 'the command is not one this kind of device takes (set_dim is for streetlights)',
  COMMAND_ERR_TARGET: 'the target names no device, or no device of a kind that takes the command',
  COMMAND_ERR_DECOMMISSIONED: 'a device of the target is decommissioned',
  COMMAND_ERR_ACK:
    "a device's answer on …/commands/ack is not JSON of the form { id, result: done|refused, reason? }",
  COMMAND_ERR_ACK_UNKNOWN: 'a device answered a command that is not one of its own (or that does not exist)',
  COMMAND_ERR_STORE:
    'the command store (commands.db in the data folder, or PostgreSQL in a cluster) could not be opened or written',
} as const;

export type CommandErrorCode = keyof typeof COMMAND_ERRORS;

/** One thing wrong with a request: the field (`target.devices.3`, `params.level_pct`) and why. */
export interface CommandProblem {
  readonly field: string;
  readonly message: string;
}

export class CommandError extends errorClass('CommandError', COMMAND_ERRORS) {
  /** Every problem found, when a request has several (a list of devices). */
  problems: readonly CommandProblem[] = [];
}

export function commandError(code: CommandErrorCode, problems: readonly CommandProblem[]): CommandError {
  const shown = problems
    .slice(0, 5)
    .map((p) => `${p.field}: ${p.message}`)
    .join('; ');
  const err = new CommandError(
    code,
    `${shown}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`,
  );
  err.problems = problems;
  return err;
}

export const isCommandError = isErrorOf(CommandError);
