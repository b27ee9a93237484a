// What the broker refused — a CONNECT with a wrong secret or from a blocked address, a publish or a
// subscription outside the client's topics, a publish that could not be stored — kept with the dead
// letters, where the device's maker reads them (GET /api/dead-letters?source=<device>): the code, the
// topic, the time, the address, and a refused publish's payload. Within a budget, so that a hostile client
// cannot fill the store: only refusals of ids the registry knows (a made-up user name has no maker to read
// them), 10 a minute per id and 600 a minute in all; the metrics count every refusal whatever the budget.
import type { Refusal } from '../broker/index.ts';
import { createSourceBudget, type DeadLetterStore } from '../ingest/index.ts';

export const REFUSALS_PER_SOURCE_PER_MINUTE = 10;
export const REFUSALS_PER_MINUTE = 600;

/** Ids are at most 64 characters (devices/schemas.ts); a service account's client id adds `:<consumer>`. */
const MAX_SOURCE_CHARS = 256;

export function createRefusalRecorder(
  deadLetters: Pick<DeadLetterStore, 'record'>,
  isKnown: (id: string) => boolean,
  clock: () => number,
): (refusal: Refusal) => void {
  const perSource = createSourceBudget(REFUSALS_PER_SOURCE_PER_MINUTE, clock);
  const overall = createSourceBudget(REFUSALS_PER_MINUTE, clock);
  return (r) => {
    const source = r.source.slice(0, MAX_SOURCE_CHARS);
    if (!isKnown(source.split(':')[0]!)) return;
    if (!overall.take('')) return;
    if (!perSource.take(source)) return overall.refund('');
    const { topic, code, detail, payload } = r;
    deadLetters.record({ at: clock(), source, topic, code, detail, payload });
  };
}
