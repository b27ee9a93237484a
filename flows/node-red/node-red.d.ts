// The parts of Node-RED's embedding API (`node-red`'s lib/red.js) and of its test helper that the
// project uses; neither package ships type declarations.
declare module 'node-red' {
  import type { EventEmitter } from 'node:events';
  import type { IncomingMessage, Server, ServerResponse } from 'node:http';

  type Handler = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

  interface NodeRed {
    init(server: Server, settings: Record<string, unknown>): void;
    start(): Promise<void>;
    stop(): Promise<void>;
    version(): string;
    readonly httpAdmin: Handler;
    readonly httpNode: Handler;
    /** The runtime's events: `flows:started`, `runtime-event` ({ id, payload })... */
    readonly events: EventEmitter;
  }

  const RED: NodeRed;
  export default RED;
}

declare module 'node-red-node-test-helper' {
  import type { EventEmitter } from 'node:events';

  /** A node instance in the test runtime; `call:<method>` events follow each spied method call. */
  export interface TestNode extends EventEmitter {
    readonly id: string;
    receive(msg: Record<string, unknown>): void;
    [key: string]: unknown;
  }

  export type NodeModule = (RED: unknown) => void;

  interface NodeTestHelper {
    init(nodeRedPath: string, userSettings?: Record<string, unknown>): void;
    settings(userSettings: Record<string, unknown>): void;
    load(
      nodes: NodeModule | NodeModule[],
      flow: Array<Record<string, unknown>>,
      credentials?: Record<string, Record<string, string>>,
    ): Promise<void>;
    unload(): Promise<void>;
    getNode(id: string): TestNode;
    startServer(done: () => void): void;
    stopServer(done: () => void): void;
  }

  const helper: NodeTestHelper;
  export default helper;
}
