// The notification loop: every tick the notifier reads new alert events and queues what is due, then the
// deliverer sends what is due. A new alert event wakes it at once (`wake`), so a group that need not wait
// is sent within milliseconds, not at the next tick. A tick that fails is logged and the next one tries again, backing off
// while failures repeat; a tick never overlaps the one before, and nothing here can stop the loop.
import type { Logger } from 'pino';
import type { Deliverer, DeliveryOutcome } from './delivery.ts';
import { isNotifyError } from './errors.ts';
import type { Notifier } from './notifier.ts';

export interface NotifyLoopOptions {
  readonly notifier: Notifier;
  readonly deliverer: Deliverer;
  /** Between two ticks, ms. */
  readonly tickMs: number;
  /** In a cluster, whether this node holds the notifier's lease (lease.ts): the others stand by. */
  readonly active?: () => boolean;
  /** Told of every attempt, for metrics. */
  readonly onOutcome?: (outcome: DeliveryOutcome) => void;
  readonly log: Logger;
}

export interface NotifyLoop {
  /** One tick now (tests drive the loop with it); resolves when its sends are settled. */
  tick(): Promise<void>;
  /** Something happened (an alert event): tick as soon as the tick in progress, if any, is over. */
  wake(): void;
  /** When (performance.now()) the last tick ended, or the loop started: a stuck loop's stays old. */
  settledAt(): number;
  close(): Promise<void>;
}

const MAX_PAUSE_MS = 60_000;

export function startNotifyLoop(options: NotifyLoopOptions): NotifyLoop {
  const { notifier, deliverer, log } = options;
  let running: Promise<void> | undefined;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let settled = performance.now();
  /** A wake came while a tick ran: one more tick after it, for what that tick may have missed. */
  let again = false;
  /** A wake is scheduled: the wakes of one burst of events make one tick. */
  let woken = false;

  async function once(): Promise<void> {
    try {
      // Standing by (another node holds the lease): nothing to back off from when this node takes over.
      if (options.active?.() === false) failures = 0;
      else {
        await notifier.step();
        for (const outcome of await deliverer.deliverDue()) options.onOutcome?.(outcome);
        failures = 0;
      }
    } catch (err) {
      // The lease lost mid-step: another node notifies now; not a failure to back off from.
      if (isNotifyError(err) && err.code === 'NOTIFY_ERR_FENCED') {
        log.warn({ err }, 'notification step refused: another node holds the lease now');
        failures = 0;
      } else {
        failures++;
        log.error({ err, failures }, 'notification tick failed; trying again');
      }
    } finally {
      settled = performance.now();
    }
  }

  function tick(): Promise<void> {
    running ??= once().finally(() => {
      running = undefined;
      if (again && !closed) {
        again = false;
        void tick();
      }
    });
    return running;
  }

  function schedule(): void {
    if (closed) return;
    const pause = Math.min(MAX_PAUSE_MS, options.tickMs * 2 ** Math.min(failures, 10));
    timer = setTimeout(() => void tick().then(schedule, schedule), pause);
    timer.unref();
  }
  schedule();

  return {
    tick,
    wake() {
      // A failing loop keeps to its backoff. The tick runs after the caller's turn (setImmediate), never
      // inside it: the wake comes from the alert service, on the rules engine's path.
      if (closed || failures > 0 || woken) return;
      woken = true;
      setImmediate(() => {
        woken = false;
        if (running !== undefined) again = true;
        else void tick();
      });
    },
    settledAt: () => settled,
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}
