// What the broker refused — a CONNECT with a wrong secret or from a blocked address, a publish or a
// subscription outside the client's topics, a publish that could not be stored — kept with the dead
// letters, where the device's maker reads them (GET /api/dead-letters?source=<device>): the code, the
// topic, the time, the address, and a refused publish's payload. Within a budget, so that a hostile client
// cannot fill the store: 10 a minute per user name or client id, 600 a minute in all; the metrics count
// every refusal whatever the budget.
import type { Refusal } from '../broker/index.ts';
import { createSourceBudget, type DeadLetterStore } from '../ingest/index.ts';

export const REFUSALS_PER_SOURCE_PER_MINUTE = 10;
export const REFUSALS_PER_MINUTE = 600;

export function createRefusalRecorder(
  deadLetters: Pick<DeadLetterStore, 'record'>,
  clock: () => number,
): (refusal: Refusal) => void {
  const perSource = createSourceBudget(REFUSALS_PER_SOURCE_PER_MINUTE, clock);
  const overall = createSourceBudget(REFUSALS_PER_MINUTE, clock);
  return (r) => {
    if (!perSource.take(r.source)) return;
    if (!overall.take('')) return perSource.refund(r.source);
    deadLetters.record({
      at: clock(),
      source: r.source,
      topic: r.topic,
      code: r.code,
      detail: r.detail,
      payload: r.payload,
    });
  };
}
