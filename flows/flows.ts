// Node-RED flows, the second way to write alert rules (docs/architecture.md, decision 6), on the
// platform's side of their MQTT contract: the decoded readings it publishes (readings.ts) and the alert
// requests it carries out (requests.ts). This is the component as the platform wires it: ingest hands it
// durable readings, the broker hands it alert requests and tells it when readings gain or lose their
// last subscriber.
import type { Logger } from 'pino';
import { withDerivedFields, type DeviceRecord, type Reading, type Topics } from '../devices/index.ts';
import { createFlowReadings } from './readings.ts';
import { createFlowRequests, type FlowRequestDeps, type FlowRequestMessage } from './requests.ts';

export interface FlowsDeps extends Omit<FlowRequestDeps, 'log'> {
  readonly topics: Topics;
  /** The broker's platform publish. */
  readonly publish: (topic: string, payload: string, options: { qos: 0; retain: false }) => Promise<void>;
  /** Counts decoded readings published. */
  readonly onPublished: (count: number) => void;
  readonly log: Logger;
}

export interface Flows {
  /** Ingest's listener for durable readings: publishes them while anyone subscribes, else does nothing. */
  onReadings(readings: readonly Reading[], device: DeviceRecord): void;
  /** The broker's alert request handler (requests.ts, createFlowRequests). */
  readonly request: (message: FlowRequestMessage) => Promise<Error | undefined>;
  /** The broker's news: decoded readings gained their first subscriber, or lost their last. */
  readonly readingsWanted: (wanted: boolean) => void;
  /** Whether decoded readings are being published now. */
  isPublishing(): boolean;
}

export function createFlows(deps: FlowsDeps): Flows {
  const { log } = deps;
  let wanted = false;
  const publishReadings = createFlowReadings({
    topics: deps.topics,
    publish: (topic, payload) => deps.publish(topic, payload, { qos: 0, retain: false }),
    derive: withDerivedFields,
    onPublished: deps.onPublished,
    log,
  });
  return {
    onReadings(readings, device) {
      if (wanted) publishReadings(readings, device);
    },
    request: createFlowRequests(deps),
    readingsWanted(now) {
      wanted = now;
      log.info({ wanted }, wanted ? 'decoded readings subscribed to' : 'decoded readings unwatched');
    },
    isPublishing: () => wanted,
  };
}
