// The project's commands read their command line here, so every one answers the same way: `--help` (or
// `-h`) prints its usage on stdout and exits 0; an unknown option, a missing value or a stray argument
// prints what was wrong and the usage on stderr and exits 2, the conventional code for a usage error.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface CommandLine<O extends NonNullable<ParseArgsConfig['options']>> {
  /** The usage text, first line `usage: …`. */
  readonly usage: string;
  readonly options?: O;
  readonly allowPositionals?: boolean;
  /** The arguments after the script; process.argv's by default. */
  readonly argv?: readonly string[];
}

export const EXIT_USAGE = 2;

/** The parsed command line; on `--help` or a usage error, the process ends here as described above. */
export function readCommandLine<O extends NonNullable<ParseArgsConfig['options']>>(spec: CommandLine<O>) {
  const args = [...(spec.argv ?? process.argv.slice(2))];
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${spec.usage}\n`);
    process.exit(0);
  }
  try {
    return parseArgs({
      args,
      options: spec.options ?? ({} as O),
      strict: true,
      allowPositionals: spec.allowPositionals ?? false,
    });
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${spec.usage}\n`);
    process.exit(EXIT_USAGE);
  }
}
