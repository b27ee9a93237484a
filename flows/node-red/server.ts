// Node-RED embedded in a project process: its editor and runtime on one HTTP server, the project's nodes
// loaded from flows/node-red/nodes, and the shipped example flows as the flow file of a new user folder
// (copied once: afterwards the folder's copy is the engineer's, edits and all).
// Node-RED's runtime is one per process: start it once, close it before starting it again.
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import RED from 'node-red';
import type { Logger } from 'pino';
import { FLOW_FILE, nodeRedSettings, type NodeRedConfig, type NodeRedLogEvent } from './settings.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The project's custom nodes (a Node-RED module of their own: nodes/package.json). */
export const NODES_DIR = path.join(here, 'nodes');
/** The example flows shipped with the project. */
export const EXAMPLE_FLOWS = path.join(here, 'flows', 'hue-examples.json');

export interface NodeRedServer {
  /** The editor, e.g. `http://127.0.0.1:1880/`. */
  readonly url: string;
  readonly port: number;
  /** Whether this start copied the example flows into a new user folder. */
  readonly flowsCopied: boolean;
  /** Stops the flows (their context is written to disk), then the HTTP server; safe to call twice. */
  close(): Promise<void>;
}

export interface NodeRedDeps {
  readonly log: Logger;
  /** The flows to copy into a user folder that has none; the shipped examples by default. */
  readonly flows?: string;
}

export async function startNodeRed(config: NodeRedConfig, deps: NodeRedDeps): Promise<NodeRedServer> {
  const log = deps.log;
  await fs.mkdir(config.userDir, { recursive: true });
  const flowsCopied = await copyFlowsOnce(deps.flows ?? EXAMPLE_FLOWS, path.join(config.userDir, FLOW_FILE));
  if (flowsCopied) log.info({ userDir: config.userDir }, 'new user folder: the example flows are its flows');
  for (const warning of config.warnings) log.warn(warning);

  const server = http.createServer((req, res) => {
    RED.httpAdmin(req, res, () =>
      RED.httpNode(req, res, () => {
        res.statusCode = 404;
        res.end();
      }),
    );
  });
  RED.init(server, nodeRedSettings(config, { nodesDir: NODES_DIR, log: toPino(log) }));
  // RED.start() resolves once the editor is up; the flows start a moment later, or stop on a problem
  // (a node type no module provides) that the engineer fixes in the editor. The server listens only
  // then, as Node-RED's own launcher does: a browser asking earlier would get 503 and an error line.
  const flowsStarted = flowsOutcome();
  await RED.start();
  try {
    await listen(server, config.port, config.host);
  } catch (err) {
    await RED.stop();
    throw err;
  }
  const problem = await flowsStarted;
  if (problem !== undefined) log.warn({ problem }, 'the flows did not start: see the editor');
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}/`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    flowsCopied,
    close: () =>
      (closing ??= (async () => {
        await RED.stop();
        server.closeAllConnections(); // the editor's websocket would hold the server open
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })()),
  };
}

/** Resolves when the flows have started (undefined) or the runtime stopped them (its reason). */
function flowsOutcome(): Promise<string | undefined> {
  return new Promise((resolve) => {
    const started = () => finish(undefined);
    const state = (event: { id?: unknown; payload?: { error?: unknown } }) => {
      if (event.id === 'runtime-state' && typeof event.payload?.error === 'string')
        finish(event.payload.error);
    };
    const finish = (problem: string | undefined) => {
      RED.events.off('flows:started', started);
      RED.events.off('runtime-event', state);
      resolve(problem);
    };
    RED.events.on('flows:started', started);
    RED.events.on('runtime-event', state);
  });
}

/** Copies the shipped flows into the user folder when it has no flow file yet; true when it did. */
async function copyFlowsOnce(from: string, to: string): Promise<boolean> {
  try {
    await fs.copyFile(from, to, fs.constants.COPYFILE_EXCL);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

const LEVELS: Readonly<Record<number, 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'>> = {
  10: 'fatal',
  20: 'error',
  30: 'warn',
  40: 'info',
  50: 'debug',
  60: 'trace',
};

/** Node-RED's log events as pino lines: the node's type, id and name as fields, the text as message. */
function toPino(log: Logger): (event: NodeRedLogEvent) => void {
  const nr = log.child({ component: 'node-red' });
  return (event) => {
    const level = LEVELS[event.level];
    if (level === undefined) return; // audit and metric events are off
    const fields = { type: event.type, node: event.id, name: event.name };
    if (event.msg instanceof Error) nr[level]({ ...fields, err: event.msg }, event.msg.message);
    else nr[level](fields, typeof event.msg === 'string' ? event.msg : JSON.stringify(event.msg));
  };
}
