// What a request for commands means: whom it is for (a device, a list, a street's lamps, a district's or
// a tag's devices), which command with which parameters, how long it may wait; each checked, with an
// error code and the field at fault (errors.ts) for what does not hold.
import { z } from 'zod';
import {
  COMMAND_KINDS,
  COMMAND_PARAMS,
  COMMAND_TYPES,
  CommandExpiry,
  DeviceId,
  expiryMs,
  Kind,
  type CommandSpec,
  type CommandType,
  type DeviceRecord,
} from '../devices/index.ts';
import { CommandError, commandError, type CommandErrorCode, type CommandProblem } from './errors.ts';

/** Whom a command goes to: one device, a list, a street's lamps, a district's or a tag's devices. */
export const CommandTarget = z.union([
  z.strictObject({ device: DeviceId }),
  z.strictObject({ devices: z.array(DeviceId).min(1).max(10_000) }),
  z.strictObject({
    street: z.string().trim().min(1).max(100),
    district: z.string().trim().min(1).max(100).optional(),
  }),
  z.strictObject({ district: z.string().trim().min(1).max(100), kind: Kind.optional() }),
  z.strictObject({ tag: z.string().min(1).max(64), kind: Kind.optional() }),
]);
export type CommandTarget = z.infer<typeof CommandTarget>;

export const DEFAULT_EXPIRY = '1h';
const MIN_EXPIRY_MS = 1000;
const MAX_EXPIRY_MS = 7 * 86_400_000;

/** A request as the API and the CLI send it; type and parameters are checked by the service. */
export const CommandRequest = z.strictObject({
  target: CommandTarget,
  type: z.string().describe(COMMAND_TYPES.join(', ')),
  params: z.record(z.string(), z.unknown()).optional(),
  expires_in: CommandExpiry.optional().describe(
    `how long the command may wait for a device that is away; default ${DEFAULT_EXPIRY}, at most 7d`,
  ),
});
export type CommandRequest = z.infer<typeof CommandRequest>;

/** The registry as a request needs it. */
export interface RequestDevices {
  getDevice(id: string): DeviceRecord | undefined;
  /** The devices in service (not the decommissioned). */
  listDevices(): DeviceRecord[];
}

/** The request checked: its command, how long it may wait, and the devices it is for; a CommandError if bad. */
export function checkRequest(
  request: CommandRequest,
  devices: RequestDevices,
): { spec: CommandSpec; expiresInMs: number; devices: DeviceRecord[] } {
  const spec = checkSpec(request.type, request.params);
  const expiresInMs = expiryMs(request.expires_in ?? DEFAULT_EXPIRY);
  if (expiresInMs < MIN_EXPIRY_MS || expiresInMs > MAX_EXPIRY_MS)
    throw commandError('COMMAND_ERR_PARAMS', [{ field: 'expires_in', message: 'from 1s to 7d' }]);
  return { spec, expiresInMs, devices: resolveTarget(request.target, spec, devices) };
}

/** The command's type and parameters, or why not (the type first, then every parameter problem). */
function checkSpec(type: string, params: unknown): CommandSpec {
  if (!(COMMAND_TYPES as readonly string[]).includes(type))
    throw new CommandError(
      'COMMAND_ERR_TYPE',
      `type: no command ${JSON.stringify(type)}; one of ${COMMAND_TYPES.join(', ')}`,
    );
  const parsed = COMMAND_PARAMS[type as CommandType].safeParse(params ?? {});
  if (!parsed.success)
    throw commandError(
      'COMMAND_ERR_PARAMS',
      parsed.error.issues.map((i) => ({ field: ['params', ...i.path].join('.'), message: i.message })),
    );
  return { type, params: parsed.data } as CommandSpec;
}

function resolveTarget(target: CommandTarget, spec: CommandSpec, devices: RequestDevices): DeviceRecord[] {
  const takes = (d: DeviceRecord) => COMMAND_KINDS[spec.type].includes(d.kind);
  type Refused = CommandProblem & { readonly code: CommandErrorCode };
  const one = (id: string, field: string): DeviceRecord | Refused => {
    const d = devices.getDevice(id);
    if (d === undefined) return { code: 'COMMAND_ERR_TARGET', field, message: `no device ${id}` };
    if (d.status !== 'active')
      return { code: 'COMMAND_ERR_DECOMMISSIONED', field, message: `device ${id} is decommissioned` };
    if (!takes(d))
      return {
        code: 'COMMAND_ERR_KIND',
        field,
        message: `${id} is a ${d.kind} device: ${spec.type} is for ${COMMAND_KINDS[spec.type].join(', ')}`,
      };
    return d;
  };
  if ('device' in target || 'devices' in target) {
    const ids = 'device' in target ? [target.device] : target.devices;
    const found = ids.map((id, i) => one(id, 'device' in target ? 'target.device' : `target.devices.${i}`));
    const refused = found.filter((f): f is Refused => 'message' in f);
    if (refused.length > 0) {
      // One code for the request: the problems' own when they share it, else "no such target".
      const codes = new Set(refused.map((r) => r.code));
      const code = codes.size === 1 ? refused[0]!.code : 'COMMAND_ERR_TARGET';
      throw commandError(
        code,
        refused.map(({ field, message }) => ({ field, message })),
      );
    }
    return [...new Map((found as DeviceRecord[]).map((d) => [d.id, d])).values()];
  }
  // The registry lists the devices in service only.
  const active = devices.listDevices();
  let chosen: DeviceRecord[];
  let what: string;
  if ('street' in target) {
    if (!COMMAND_KINDS[spec.type].includes('streetlight'))
      throw commandError('COMMAND_ERR_KIND', [
        { field: 'target.street', message: `a street's lamps do not take ${spec.type}` },
      ]);
    chosen = active.filter(
      (d) =>
        d.kind === 'streetlight' &&
        d.meta.street === target.street &&
        (target.district === undefined || d.district === target.district),
    );
    what = `no lamp on ${target.street}${target.district === undefined ? '' : ` in ${target.district}`}`;
  } else {
    const inSet =
      'district' in target
        ? (d: DeviceRecord) => d.district === target.district
        : (d: DeviceRecord) => d.tags.includes(target.tag);
    chosen = active.filter(
      (d) => inSet(d) && takes(d) && (target.kind === undefined || d.kind === target.kind),
    );
    what = `no device ${'district' in target ? `in ${target.district}` : `tagged ${target.tag}`}${target.kind === undefined ? '' : ` of kind ${target.kind}`} takes ${spec.type}`;
  }
  if (chosen.length === 0) throw commandError('COMMAND_ERR_TARGET', [{ field: 'target', message: what }]);
  return chosen;
}
