// Readings to the node that evaluates their rules. In a cluster each device's rules run on the node that
// holds its partition (alerts/partitions.ts, docs/cluster.md); the node that accepted a device's readings
// (stored, acknowledged) sends them there over the brokers' bus, in one message per node and turn of the
// event loop. While a partition has no holder (its node died and the lease has not run out yet) its
// readings wait here, up to a bound, and go to the new holder when there is one. A reading that reaches a
// node which no longer holds its partition is sent on once more. What travels is only the rules' copy:
// the readings themselves are on disk already.
import type { Logger } from 'pino';
import { partitionOf, type RuleLeases } from '../alerts/index.ts';
import type { NodeBus } from '../broker/index.ts';
import type { DeviceRecord, Reading } from '../devices/index.ts';
import type { RuleEngine } from '../rules/index.ts';

const CHANNEL = 'rule-readings';
/** Readings held for partitions with no holder, at most; the oldest go first beyond it. */
const WAITING_MAX = 20_000;
const RETRY_MS = 250;

interface Batch {
  readonly device: string;
  readonly readings: readonly Reading[];
  /** How many nodes it went through already. */
  readonly hops: number;
}

export interface RuleRouting {
  /** The ingest listener in place of the rules engine's. */
  onReadings(readings: readonly Reading[], device: DeviceRecord): void;
  /** Readings dropped: past the waiting bound, sent on too often, or of a device gone from the registry. */
  dropped(): number;
  close(): void;
}

export interface RuleRoutingDeps {
  readonly rules: Pick<RuleEngine, 'onReadings' | 'owns'>;
  readonly leases: Pick<RuleLeases, 'ownerOf'>;
  readonly bus: NodeBus;
  readonly getDevice: (id: string) => DeviceRecord | undefined;
  readonly log: Logger;
}

export function startRuleRouting({ rules, leases, bus, getDevice, log }: RuleRoutingDeps): RuleRouting {
  const outgoing = new Map<string, Batch[]>();
  /** Batches of partitions with no holder yet, in arrival order; how many readings they hold, by partition. */
  let waiting: Batch[] = [];
  let waitingReadings = 0;
  const waitingIn = new Map<number, number>();
  let dropped = 0;
  let flushing = false;

  function wait(batch: Batch, partition: number): void {
    waiting.push(batch);
    waitingReadings += batch.readings.length;
    waitingIn.set(partition, (waitingIn.get(partition) ?? 0) + 1);
    while (waitingReadings > WAITING_MAX) {
      const oldest = waiting.shift()!;
      waitingReadings -= oldest.readings.length;
      dropped += oldest.readings.length;
      unwait(partitionOf(oldest.device));
    }
  }

  function unwait(partition: number): void {
    const n = (waitingIn.get(partition) ?? 1) - 1;
    if (n > 0) waitingIn.set(partition, n);
    else waitingIn.delete(partition);
  }

  /** `retrying`: the batch comes from the waiting list, in order, not behind it. */
  function route(batch: Batch, retrying = false): void {
    const partition = partitionOf(batch.device);
    // A device's readings keep their order: behind the ones of its partition that wait.
    if (!retrying && waitingIn.has(partition)) return wait(batch, partition);
    const owner = leases.ownerOf(partition);
    if (owner === bus.node) {
      const device = getDevice(batch.device);
      // A device decommissioned meanwhile has no rules left to run.
      if (device === undefined) dropped += batch.readings.length;
      else if (rules.owns(device.id)) rules.onReadings(batch.readings, device);
      else wait(batch, partition); // the partition is changing hands here
      return;
    }
    if (owner === undefined) return wait(batch, partition);
    if (batch.hops >= 2) {
      dropped += batch.readings.length;
      return;
    }
    let list = outgoing.get(owner);
    if (list === undefined) outgoing.set(owner, (list = []));
    list.push({ ...batch, hops: batch.hops + 1 });
    if (!flushing) {
      flushing = true;
      setImmediate(flush);
    }
  }

  function flush(): void {
    flushing = false;
    for (const [owner, list] of outgoing) bus.send(owner, CHANNEL, Buffer.from(JSON.stringify(list)));
    outgoing.clear();
  }

  const stop = bus.on(CHANNEL, (payload) => {
    try {
      for (const batch of JSON.parse(payload.toString()) as Batch[]) route(batch);
    } catch (err) {
      log.error({ err }, 'readings from another node not evaluated');
    }
  });
  const retry = setInterval(() => {
    if (waiting.length === 0) return;
    const again = waiting;
    waiting = [];
    waitingReadings = 0;
    waitingIn.clear();
    for (const batch of again) route(batch, true);
  }, RETRY_MS);
  retry.unref();

  return {
    onReadings: (readings, device) => route({ device: device.id, readings, hops: 0 }),
    dropped: () => dropped,
    close() {
      clearInterval(retry);
      stop();
      flush();
    },
  };
}
