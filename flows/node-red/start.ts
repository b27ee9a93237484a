// `npm run node-red`: Node-RED with the project's nodes and the example flows, connected to the platform
// as its service account. Configured by the environment (README, "Node-RED"); when the secret or a token
// is not there, it takes what `npm run demo` keeps in the data folder.
import fs from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import {
  ADMIN_TOKEN_FILE,
  FLEET_CREDENTIALS_FILE,
  NodeRedConfigError,
  NodeRedEnv,
  loadNodeRedConfig,
  type DemoFiles,
} from './settings.ts';
import { startNodeRed } from './server.ts';
import { readCommandLine } from '../../cli/index.ts';
import { errorText } from '../../errors/index.ts';

const USAGE = `usage: npm run node-red
  Node-RED with the project's nodes and example flows, connected to the platform as its service account.
  It takes no options: it is configured by the environment (README, "Node-RED").`;

async function main(): Promise<void> {
  readCommandLine({ usage: USAGE });
  let config;
  try {
    config = loadNodeRedConfig(
      process.env,
      await demoFiles(NodeRedEnv.shape.CITY_DATA_DIR.parse(process.env.CITY_DATA_DIR)),
    );
  } catch (err) {
    if (err instanceof NodeRedConfigError) {
      process.stderr.write(`${err.message}\nSee the README, section "Node-RED".\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = pino({ level: config.logLevel, redact: ['secret', 'token', '*.secret', '*.token'] });
  const nodeRed = await startNodeRed(config, { log });
  process.stdout.write(
    [
      '',
      `  Node-RED  ${nodeRed.url}   (user folder ${config.userDir})`,
      `  Platform  ${config.platform.mqttUrl} as "${config.platform.account}", API ${config.platform.apiUrl}`,
      '  Ctrl-C stops it.',
      '',
    ].join('\n') + '\n',
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    log.info({ signal }, 'stopping Node-RED');
    nodeRed.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** The demo's files in the data folder, those that exist. */
async function demoFiles(dataDir: string): Promise<DemoFiles> {
  const read = (name: string) => fs.readFile(path.join(dataDir, name), 'utf8').catch(() => undefined);
  return { fleetCredentials: await read(FLEET_CREDENTIALS_FILE), adminToken: await read(ADMIN_TOKEN_FILE) };
}

main().catch((err: unknown) => {
  process.stderr.write(`Node-RED could not start: ${errorText(err)}\n`);
  process.exit(1);
});
