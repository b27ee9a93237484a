// The flows component's public entry: the platform's side of Node-RED's MQTT contract, the decoded
// readings it publishes for service accounts and the alert requests it carries out through the alert
// service. The Node-RED process itself (its settings, custom nodes and start command) is flows/node-red/,
// with an entry of its own, so that the platform process never loads Node-RED.
export { createFlows, type Flows, type FlowsDeps } from './flows.ts';
export { createFlowReadings, flowReading, type FlowReading, type FlowReadingsDeps } from './readings.ts';
export {
  ClearRequest,
  createFlowRequests,
  decideFlowRequest,
  FLOW_ERROR_CODES,
  FLOW_MAX_AGE_MS,
  FLOW_MAX_FUTURE_MS,
  RaiseRequest,
  type FlowContext,
  type FlowDeadLetter,
  type FlowDecision,
  type FlowErrorCode,
  type FlowMetrics,
  type FlowRequestDeps,
  type FlowRequestMessage,
  type FlowRequestTopic,
} from './requests.ts';
