// Every refusal of the broker goes through one reporter: counted in the metrics, logged within a budget per
// code (a flood of refusals must not fill the disk with lines), and told to whoever keeps them for the
// sender's maker (the platform keeps them with the dead letters). Telling never throws into the broker.
import type { Logger } from 'pino';
import { createLogBudget } from '../errors/index.ts';
import type { BrokerErrorCode } from './errors.ts';

/** What the broker reports; the composition root maps it onto Prometheus metrics. */
export interface BrokerMetrics {
  refused(code: BrokerErrorCode): void;
}

/** A refused connection, publish or subscription, for the sender's maker to read (GET /api/dead-letters). */
export interface Refusal {
  readonly code: BrokerErrorCode;
  /** The user name a CONNECT claimed, or the client id of a connected client. */
  readonly source: string;
  /** The topic or filter refused; empty for a CONNECT. */
  readonly topic: string;
  readonly detail: string;
  /** The refused publish's payload; empty for the rest. */
  readonly payload: Buffer;
}

export interface RefusalReport {
  /** The fields of the log line. */
  readonly log: Record<string, unknown>;
  /** Who is told of it; undefined: no one (the sender is not known yet). */
  readonly source?: string;
  readonly topic?: string;
  /** What the sender's maker reads; the message unless given. */
  readonly detail?: string;
  readonly payload?: Buffer;
  /** False for a note that is not a refusal of its own (a block starting): logged and told, not counted. */
  readonly counted?: boolean;
}

export type ReportRefusal = (code: BrokerErrorCode, message: string, report: RefusalReport) => void;

const EMPTY = Buffer.alloc(0);

export function createRefusalReporter(deps: {
  readonly log: Logger;
  readonly metrics: BrokerMetrics;
  readonly onRefused?: ((refusal: Refusal) => void) | undefined;
}): ReportRefusal {
  const budget = createLogBudget(deps.log);
  return (code, message, r) => {
    if (r.counted !== false) deps.metrics.refused(code);
    budget.warn(code, r.log, message);
    if (r.source === undefined) return;
    try {
      deps.onRefused?.({
        code,
        source: r.source,
        topic: r.topic ?? '',
        detail: r.detail ?? message,
        payload: r.payload ?? EMPTY,
      });
    } catch (err) {
      deps.log.error({ err, code }, 'a refusal could not be recorded');
    }
  };
}
