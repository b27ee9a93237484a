// The `commands` measurement: one line per transition of a command to a device (commands/service.ts):
// queued, sent, acknowledged, failed, expired, and the check of its result against the device's next
// readings (matched, mismatched or unverified). Written through the spool; the Streetlights dashboard draws them as
// annotations.
//
// Tags are bounded sets: the device, its kind and district, the command type and the state reached. The
// command's id and the batch it was sent in are fields (they grow without bound), with the attempt and,
// once it ends, how long it took from being asked for.
import { numberField, textField, type MeasurementSpec } from './spec.ts';

export const COMMAND_STATES = ['queued', 'sent', 'acknowledged', 'failed', 'expired'] as const;
export type CommandState = (typeof COMMAND_STATES)[number];
/**
 * How a command's check ended (a state of its check, not of the command): its result shown in a reading,
 * a reading showing otherwise, or no reading that could show it within the window (a lamp off by day).
 */
export const COMMAND_CHECKS = ['matched', 'mismatched', 'unverified'] as const;
export type CommandCheck = (typeof COMMAND_CHECKS)[number];

export const COMMAND_TAGS = ['device', 'kind', 'district', 'type', 'state'] as const;
export type CommandTag = (typeof COMMAND_TAGS)[number];

export const COMMAND_FIELDS = {
  command_id: numberField('', 'none', 'The command id (as in the API)'),
  batch_id: numberField('', 'none', 'The request it was sent in: a street, a district, a tag'),
  attempt: numberField('', 'none', 'How many times it was published to the device so far'),
  latency_ms: numberField('ms', 'ms', 'From being asked for to this state'),
  detail: textField('What the device answered (a refusal), or what its reading showed', 'none'),
};
export type CommandField = keyof typeof COMMAND_FIELDS;

export const COMMANDS = {
  name: 'commands',
  tags: COMMAND_TAGS,
  fields: COMMAND_FIELDS,
} as const satisfies MeasurementSpec;
