// The simulator's command line, parsed and validated in one place; every problem reported at once.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { SimError } from './errors.ts';
import { Scenario } from './models/index.ts';

export const USAGE = `usage: tsx simulators/cli.ts --url mqtt://127.0.0.1:1883 --credentials <file.json> [options]

  --url <url>            broker URL (mqtt://, mqtts://, ws://, wss://)
  --credentials <file>   [{ id, type, secret }] as written when the fleet was provisioned
  --fleet <file>         fleet file (default: the Huế fleet, devices/hue-fleet.json)
  --scenario <name>      city | normal | flood | episode (default normal)
  --speedup <n>          scenario time per real time, e.g. 60 plays the two-day flood in about an hour (default 1)
  --backfill <hours>     publish this many past hours of readings before going live (default 0)
  --backfill-step <s>    seconds between backfilled readings of a device (default 300)
  --interval <s>         seconds between live readings of a device (default 10)
  --seed <n>             same seed, same readings (default 1)
  --dropout <p>          chance per interval that a device loses its link (default 0.0005)
  --prefix <topic>       topic prefix (default city)
  --log-level <level>    pino level (default info)
  --help                 this text`;

const num = (min: number) => z.coerce.number().finite().min(min);

export const CliOptions = z.strictObject({
  url: z.string().regex(/^(mqtts?|wss?):\/\/[^\s]+$/, 'an mqtt://, mqtts://, ws:// or wss:// URL'),
  credentials: z.string().min(1),
  fleet: z.string().min(1).optional(),
  scenario: Scenario.default('normal'),
  speedup: num(0.001).default(1),
  backfill: num(0)
    .max(24 * 31)
    .default(0),
  'backfill-step': num(1).default(300),
  interval: num(0.05).default(10),
  seed: z.coerce.number().int().default(1),
  dropout: num(0).max(1).default(0.0005),
  prefix: z.string().min(1).default('city'),
  'log-level': z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type CliOptions = z.infer<typeof CliOptions>;

const STRING_OPTIONS = [
  'url',
  'credentials',
  'fleet',
  'scenario',
  'speedup',
  'backfill',
  'backfill-step',
  'interval',
  'seed',
  'dropout',
  'prefix',
  'log-level',
] as const;

/** Parses `argv` (without node and the script); throws SIM_ERR_CONFIG listing every problem. */
export function parseCliArgs(argv: readonly string[]): CliOptions {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args: [...argv],
      options: Object.fromEntries(STRING_OPTIONS.map((name) => [name, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new SimError('SIM_ERR_CONFIG', `${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`, {
      cause: err,
    });
  }
  const parsed = CliOptions.safeParse(values);
  if (!parsed.success) {
    throw new SimError('SIM_ERR_CONFIG', `${z.prettifyError(parsed.error)}\n\n${USAGE}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}
