// Runs the simulated Huế fleet against a broker:
//   tsx simulators/cli.ts --url mqtt://127.0.0.1:1883 --credentials var/credentials.json --speedup 60 --scenario flood --backfill 24
// Options: see USAGE in cli-args.ts.
import { pino } from 'pino';
import { createTopics, loadFleet } from '../devices/index.ts';
import { EXIT_USAGE } from '../cli/index.ts';
import { parseCliArgs, USAGE } from './cli-args.ts';
import { errorText } from '../errors/index.ts';
import { SimError } from './errors.ts';
import { loadCredentials, toSimFleet } from './fleet-input.ts';
import { createFleetSimulator } from './fleet-sim.ts';

async function main(argv: readonly string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let opts;
  try {
    opts = parseCliArgs(argv);
  } catch (err) {
    // A mistake on the command line: the message ends with the usage.
    process.stderr.write(`${errorText(err)}\n`);
    process.exit(EXIT_USAGE);
  }
  const log = pino({ level: opts['log-level'] }).child({ component: 'simulators' });
  const fleet = await loadFleet(opts.fleet);
  const { devices, gateways, skipped } = toSimFleet(fleet, await loadCredentials(opts.credentials));
  if (skipped.length > 0) log.warn({ skipped }, 'no secret known for these ids: left out');
  if (devices.length === 0)
    throw new SimError('SIM_ERR_CREDENTIALS', 'no device of the fleet has a known secret');

  const sim = await createFleetSimulator({
    url: opts.url,
    devices,
    gateways,
    topics: createTopics(opts.prefix),
    log,
    speedup: opts.speedup,
    intervalMs: opts.interval * 1000,
    scenario: opts.scenario,
    seed: opts.seed,
    dropout: { probability: opts.dropout },
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, ...sim.stats() }, 'stopping');
    sim.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'close failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));

  if (opts.backfill > 0) await sim.backfill({ hours: opts.backfill, stepMs: opts['backfill-step'] * 1000 });
  if (stopping) return;
  sim.start();
  log.info(
    { devices: devices.length, gateways: gateways.length, scenario: opts.scenario, speedup: opts.speedup },
    'live',
  );
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${errorText(err)}\n`);
  process.exit(1);
});
