// What the custom nodes' tests share: Node-RED's own test helper, the nodes as Node-RED loads them, and
// ways to wait for a node's output or error.
import { once } from 'node:events';
import { createRequire } from 'node:module';
import helper, { type NodeModule, type TestNode } from 'node-red-node-test-helper';

const require = createRequire(import.meta.url);
helper.init(require.resolve('node-red'));

export { helper };

const load = (file: string) => require(file) as NodeModule;
export const nodes = {
  platform: load('../../flows/node-red/nodes/city-platform.js'),
  telemetry: load('../../flows/node-red/nodes/city-telemetry.js'),
  raise: load('../../flows/node-red/nodes/raise-alert.js'),
  clear: load('../../flows/node-red/nodes/clear-alert.js'),
  deviceInfo: load('../../flows/node-red/nodes/device-info.js'),
  sendCommand: load('../../flows/node-red/nodes/send-command.js'),
  /** Node-RED's own function node, to run the example flows' functions. */
  function: load('@node-red/nodes/core/function/10-function.js'),
};
export const ALL_NODES = [
  nodes.platform,
  nodes.telemetry,
  nodes.raise,
  nodes.clear,
  nodes.deviceInfo,
  nodes.sendCommand,
];

/** A flow tab, so Catch and Status nodes and flow context work as in the editor. */
export const TAB = { id: 'tab', type: 'tab', label: 'test' };

interface SpyCall {
  readonly thisValue: unknown;
  readonly args: unknown[];
}

/** Every call of a spied node method (`error`, `status`, `send`...) made by this node, oldest first. */
export function callsOf(node: TestNode, method: string): unknown[][] {
  const spy = node[method] as { getCalls(): SpyCall[] };
  return spy
    .getCalls()
    .filter((c) => c.thisValue === node)
    .map((c) => c.args);
}

/** The next `node.error(text, msg)` of this node. */
export async function nextError(node: TestNode): Promise<{ text: string; msg: unknown }> {
  const [call] = (await once(node, 'call:error')) as [{ args: unknown[] }];
  return { text: String(call.args[0]), msg: call.args[1] };
}

/** The next message a helper node receives. */
export async function nextInput(node: TestNode): Promise<Record<string, unknown>> {
  const [msg] = (await once(node, 'input')) as [Record<string, unknown>];
  return msg;
}

/** The promise's value, or a failure naming what did not come within the bound (not a timing check). */
export async function within<T>(promise: Promise<T>, what: string, ms = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** The last status this node showed. */
export function lastStatus(node: TestNode): unknown {
  return callsOf(node, 'status').at(-1)?.[0];
}
