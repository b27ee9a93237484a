// `npm start`: the platform alone, configured by the environment (README, "Configuration").
import { readCommandLine } from '../cli/index.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createLogger } from './log.ts';
import { startPlatform } from './platform.ts';
import { stopOnSignals } from './run.ts';
import { startupAdvice } from './startup-errors.ts';

let config: Config | undefined;

const USAGE = `usage: npm start
  runs the platform alone: the MQTT broker, ingest, rules, alerts and the HTTP API.
  It takes no options: it is configured by the environment (README, "Configuration"; deploy/city.env.example).`;

async function main(): Promise<void> {
  readCommandLine({ usage: USAGE });
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee the README, section "Configuration".\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel, { format: config.logFormat });
  const platform = await startPlatform(config, { log });
  stopOnSignals(platform, log);
}

main().catch((err: unknown) => {
  process.stderr.write(`the platform could not start: ${startupAdvice(err, config)}\n`);
  process.exit(1);
});
