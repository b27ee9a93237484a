// The notification loop: a wake runs a tick after the caller's turn (not inside it), the wakes of one
// burst make one tick, a wake during a tick makes one more after it, and a failing tick keeps the loop
// alive, backing off. A node standing by (another holds the notifier's lease) makes no step, and takes up
// at once when it holds the lease, whatever failed before; a step refused for a lost lease is no failure.
// Its last tick's end says whether it is stuck.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { NotifyError } from './errors.ts';
import { startNotifyLoop, type NotifyLoop } from './loop.ts';
import type { Notifier } from './notifier.ts';

let loop: NotifyLoop | undefined;
afterEach(async () => {
  await loop?.close();
});

function counting(fail: false | Error = false) {
  const counts = { steps: 0 };
  const notifier: Notifier = {
    step() {
      counts.steps++;
      if (fail) return Promise.reject(fail);
      return Promise.resolve({ events: 0, notifications: 0, deliveries: 0, referred: 0 });
    },
  };
  return { counts, notifier };
}

const start = (notifier: Notifier, active?: () => boolean) =>
  (loop = startNotifyLoop({
    notifier,
    ...(active === undefined ? {} : { active }),
    deliverer: { deliverDue: () => Promise.resolve([]) },
    tickMs: 3_600_000,
    log: pino({ level: 'silent' }),
  }));

describe('the notification loop', () => {
  it('ticks on a wake after the caller’s turn, one tick for a burst of wakes', async () => {
    const { counts, notifier } = counting();
    const l = start(notifier);
    l.wake();
    l.wake();
    l.wake();
    expect(counts.steps).toBe(0);
    await nextTurn();
    await nextTurn();
    expect(counts.steps).toBe(1);
  });

  it('ticks once more after a tick that a wake came during', async () => {
    const { counts, notifier } = counting();
    const l = start(notifier);
    const first = l.tick();
    l.wake();
    await nextTurn();
    await first;
    await nextTurn();
    await nextTurn();
    expect(counts.steps).toBe(2);
  });

  it('survives a failing tick, and a failing loop waits for its backoff instead of waking', async () => {
    const { counts, notifier } = counting(new Error('notify.db is locked'));
    const l = start(notifier);
    await l.tick();
    expect(counts.steps).toBe(1);
    l.wake();
    await nextTurn();
    await nextTurn();
    expect(counts.steps).toBe(1);
    await l.tick();
    expect(counts.steps).toBe(2);
  });

  it('makes no step while another node holds the lease, and wakes at once when this one holds it', async () => {
    let holds = false;
    const failing = counting(new Error('connection reset'));
    const l = start(failing.notifier, () => holds);
    await l.tick();
    expect(failing.counts.steps).toBe(0);
    holds = true;
    await l.tick();
    expect(failing.counts.steps).toBe(1); // failed: the loop backs off
    holds = false;
    await l.tick(); // standing by again: the failure is forgotten
    holds = true;
    l.wake();
    await nextTurn();
    await nextTurn();
    expect(failing.counts.steps).toBe(2);
  });

  it('does not back off from a step refused because the lease was lost', async () => {
    const { counts, notifier } = counting(
      new NotifyError('NOTIFY_ERR_FENCED', 'node-a does not hold the lease'),
    );
    const l = start(notifier);
    const before = l.settledAt();
    await l.tick();
    expect(l.settledAt()).toBeGreaterThan(before);
    l.wake();
    await nextTurn();
    await nextTurn();
    expect(counts.steps).toBe(2);
  });
});
