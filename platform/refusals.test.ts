import { describe, expect, it } from 'vitest';
import type { Refusal } from '../broker/index.ts';
import type { DeadLetterInput } from '../ingest/index.ts';
import { createRefusalRecorder, REFUSALS_PER_MINUTE } from './refusals.ts';

const refusal = (source: string): Refusal => ({
  code: 'BROKER_ERR_AUTH',
  source,
  topic: '',
  detail: 'wrong credentials (from 10.0.0.1)',
  payload: Buffer.alloc(0),
});

function recorder(known: (id: string) => boolean = () => true) {
  const clock = { t: 0 };
  const kept: DeadLetterInput[] = [];
  const record = createRefusalRecorder({ record: (l) => void kept.push(l) }, known, () => clock.t);
  return { clock, kept, record };
}

describe('refusals kept with the dead letters', () => {
  it('keeps 10 a minute of one id, refilled evenly', () => {
    const { clock, kept, record } = recorder();
    for (let i = 0; i < 15; i++) record(refusal('aq-kim-long'));
    expect(kept).toHaveLength(10);
    clock.t += 12_000; // a fifth of a minute: two more
    for (let i = 0; i < 5; i++) record(refusal('aq-kim-long'));
    expect(kept).toHaveLength(12);
  });

  it('keeps 600 a minute in all, whatever the ids', () => {
    const { kept, record } = recorder();
    for (let i = 0; i < 1_000; i++) record(refusal(`aq-${i}`));
    expect(kept).toHaveLength(REFUSALS_PER_MINUTE);
  });

  it('keeps nothing of ids the registry does not know, and no more than 256 characters of an id', () => {
    const { kept, record } = recorder((id) => id.startsWith('aq-') || id === 'node-red');
    record(refusal('made-up'));
    record(refusal(`aq-${'x'.repeat(70_000)}`));
    record({ ...refusal('node-red:readings'), code: 'BROKER_ERR_SUBSCRIBE_ACL', topic: '$SYS/#' });
    expect(kept.map((k) => [k.source.length, k.code])).toEqual([
      [256, 'BROKER_ERR_AUTH'],
      ['node-red:readings'.length, 'BROKER_ERR_SUBSCRIBE_ACL'],
    ]);
  });
});
