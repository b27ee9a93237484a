// Node-RED, the second way to write alert rules: the start command's parts, for the command and the tests.
export {
  loadNodeRedConfig,
  nodeRedSettings,
  NodeRedConfigError,
  NODE_RED_ERRORS,
  NodeRedEnv,
  FLOW_FILE,
  type DemoFiles,
  type NodeRedConfig,
} from './settings.ts';
export { startNodeRed, EXAMPLE_FLOWS, NODES_DIR, type NodeRedServer } from './server.ts';
