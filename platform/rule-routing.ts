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
  let waiting: Batch[] = [];
  let dropped = 0;
  let flushing = false;

  function route(batch: Batch): void {
    const owner = leases.ownerOf(partitionOf(batch.device));
    if (owner === bus.node) {
      const device = getDevice(batch.device);
      // A device decommissioned meanwhile has no rules left to run.
      if (device !== undefined && rules.owns(device.id)) rules.onReadings(batch.readings, device);
      else dropped += batch.readings.length;
      return;
    }
    if (owner === undefined) {
      waiting.push(batch);
      if (waiting.length > WAITING_MAX) dropped += waiting.splice(0, waiting.length - WAITING_MAX).length;
      return;
    }
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
    for (const batch of again) route(batch);
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
