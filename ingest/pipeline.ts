// The per-message path: decode → validate → canonical readings → enrich with registry tags → line protocol
// → durable spool → acknowledge. Bad input is dead-lettered with its code and acknowledged, so a device
// does not resend it for ever and its connection, and every other reading, carries on.
import type { Logger } from 'pino';
import {
  isStatusPayload,
  registryFields,
  withDerivedFields,
  type DeviceRecord,
  type Kind,
  type Reading,
} from '../devices/index.ts';
import { createLogBudget, errorText } from '../errors/index.ts';
import { encodeFields, encodeReading, encodeTags } from '../influx/index.ts';
import { TAGS } from '../measurements/index.ts';
import { createSourceBudget, type DeadLetterStore } from './dead-letters.ts';
import { decodeDevicePayload, decodeGatewayPayload, type DecodeResult } from './decode.ts';
import { IngestError, type IngestErrorCode } from './errors.ts';
import type { Spool } from './spool.ts';

/** What ingest reports; the composition root maps it onto Prometheus metrics. */
/** A device's refused messages kept as dead letters each minute; the rest are counted only. */
export const DEAD_LETTERS_PER_SENDER_PER_MINUTE = 60;

export interface IngestMetrics {
  readingsAccepted(kind: Kind, count: number): void;
  messageRejected(kind: Kind | 'unknown', code: IngestErrorCode): void;
  /** A refused message not kept as a dead letter: its sender is over its budget. */
  deadLetterThrottled(): void;
}

export interface IngestDeps {
  readonly getDevice: (id: string) => DeviceRecord | undefined;
  readonly spool: Spool;
  readonly deadLetters: DeadLetterStore;
  readonly metrics: IngestMetrics;
  readonly clock: () => number;
  readonly log: Logger;
  /** Payloads above this many bytes are dead-lettered as INGEST_ERR_TOO_LARGE. */
  readonly maxPayloadBytes: number;
}

export interface Message {
  readonly topic: string;
  /** The MQTT username that published it. */
  readonly source: string;
  readonly payload: Buffer;
  /** QoS 0 is acknowledged at once (nothing to acknowledge); QoS 1 once the readings are durable. */
  readonly qos: 0 | 1 | 2;
}

/**
 * `done(undefined)` means the message is handled (stored, or dead-lettered); `done(err)` means it could not
 * be stored durably and must not be acknowledged. `rejected` tells the broker not to forward it.
 */
export type IngestDone = (err: IngestError | undefined, rejected: boolean) => void;

export type ReadingListener = (readings: readonly Reading[], device: DeviceRecord) => void;

export interface Ingest {
  acceptDevice(device: DeviceRecord, message: Message, done: IngestDone): void;
  /** A device's status (`online`/`offline`): anything else is dead-lettered as INGEST_ERR_STATUS. */
  acceptStatus(device: DeviceRecord, message: Message, done: IngestDone): void;
  acceptGateway(gatewayId: string, children: ReadonlySet<string>, message: Message, done: IngestDone): void;
  /** Readings, once durable, for the live consumers (rules, streams). */
  onReadings(listener: ReadingListener): () => void;
}

interface RegistryLine {
  readonly tags: string;
  readonly fields: string;
}

export function createIngest(deps: IngestDeps): Ingest {
  const { getDevice, spool, deadLetters, metrics, clock, log, maxPayloadBytes } = deps;
  const listeners = new Set<ReadingListener>();
  // A device's encoded tags and registry fields, reused for every reading it sends. Keyed by the registry
  // record itself: an update replaces the record, so a stale entry is never read and is collected with it.
  const lineCache = new WeakMap<DeviceRecord, RegistryLine>();
  // Junk arrives in floods: its dead letters are budgeted per sender (60 a minute), its log lines per code.
  const budget = createSourceBudget(DEAD_LETTERS_PER_SENDER_PER_MINUTE, clock);
  const logBudget = createLogBudget(log);

  /**
   * Dead-letters a refused message. A store that cannot write (SQLITE_FULL on a full disk) must not throw
   * into the MQTT loop, nor lose the message: the error comes back, and the publish is not acknowledged.
   */
  function reject(
    message: Message,
    kind: Kind | 'unknown',
    code: IngestErrorCode,
    detail: string,
  ): IngestError | undefined {
    metrics.messageRejected(kind, code);
    if (!budget.take(message.source)) {
      metrics.deadLetterThrottled();
      return undefined;
    }
    try {
      deadLetters.record({
        at: clock(),
        source: message.source,
        topic: message.topic,
        code,
        detail,
        payload: message.payload,
      });
      logBudget.warn(code, { source: message.source, topic: message.topic, detail }, 'message dead-lettered');
      return undefined;
    } catch (err) {
      budget.refund(message.source); // nothing was kept: the resend may use it
      metrics.messageRejected(kind, 'INGEST_ERR_DEAD_LETTER_IO');
      log.error(
        { err, source: message.source, code },
        'dead letter not stored; the publish is not acknowledged',
      );
      return new IngestError('INGEST_ERR_DEAD_LETTER_IO', `${code} not kept: ${errorText(err)}`, {
        cause: err,
      });
    }
  }

  /** What each line of a device's readings carries from the registry: tags, and fields after its own. */
  function fromRegistry(device: DeviceRecord): RegistryLine {
    let line = lineCache.get(device);
    if (line === undefined) {
      const flood = device.kind === 'flood' ? device.meta : undefined;
      line = {
        tags: encodeTags({
          [TAGS.device]: device.id,
          [TAGS.district]: device.district,
          [TAGS.gateway]: device.gateway ?? '',
          [TAGS.street]: device.kind === 'streetlight' ? device.meta.street : '',
          [TAGS.gauge]: flood?.type ?? '',
          [TAGS.station]: flood?.station ?? '',
          [TAGS.river]: flood?.river ?? '',
        }),
        fields: encodeFields(registryFields(device)),
      };
      lineCache.set(device, line);
    }
    return line;
  }

  function store(
    message: Message,
    readings: readonly Reading[],
    devices: readonly DeviceRecord[],
    done: IngestDone,
  ): void {
    let text = '';
    try {
      for (let i = 0; i < readings.length; i++) {
        const reading = withDerivedFields(readings[i]!, devices[i]!);
        const registry = fromRegistry(devices[i]!);
        text += encodeReading(reading, registry.tags, registry.fields) + '\n';
      }
    } catch (err) {
      // Only a registry value that line protocol cannot carry gets here (the registry refuses them).
      return done(reject(message, readings[0]!.kind, 'INGEST_ERR_SCHEMA', (err as Error).message), true);
    }
    const durable = (err?: IngestError) => {
      if (err) {
        metrics.messageRejected(readings[0]!.kind, err.code);
        log.error({ err, source: message.source }, 'readings not stored durably; not acknowledged');
        if (message.qos > 0) done(err, true);
        return;
      }
      countByKind(readings, metrics);
      // The PUBACK first: the device need not wait for the rules to run on what is already safe.
      if (message.qos > 0) done(undefined, false);
      if (listeners.size > 0) notify(readings, devices);
    };
    spool.append(text, readings.length, durable);
    // QoS 0 promises nothing: acknowledge (there is no PUBACK) without waiting for the disk.
    if (message.qos === 0) done(undefined, false);
  }

  function notify(readings: readonly Reading[], devices: readonly DeviceRecord[]): void {
    for (const listener of listeners) {
      for (let i = 0; i < readings.length; i++) {
        try {
          listener([readings[i]!], devices[i]!);
        } catch (err) {
          log.error({ err }, 'reading listener failed');
        }
      }
    }
  }

  function settle(
    message: Message,
    kind: Kind | 'unknown',
    result: DecodeResult,
    deviceOf: (r: Reading) => DeviceRecord | undefined,
    done: IngestDone,
  ) {
    if (!result.ok) {
      return done(reject(message, kind, result.code, result.detail), true);
    }
    const devices: DeviceRecord[] = [];
    for (const r of result.readings) {
      const d = deviceOf(r);
      if (!d) {
        return done(
          reject(message, r.kind, 'INGEST_ERR_UNKNOWN_DEVICE', `device ${r.device} is not registered`),
          true,
        );
      }
      devices.push(d);
    }
    store(message, result.readings, devices, done);
  }

  function acceptDevice(device: DeviceRecord, message: Message, done: IngestDone): void {
    if (message.payload.length > maxPayloadBytes) {
      return done(
        reject(
          message,
          device.kind,
          'INGEST_ERR_TOO_LARGE',
          `${message.payload.length} > ${maxPayloadBytes} bytes`,
        ),
        true,
      );
    }
    const result = decodeDevicePayload(device.kind, device.id, message.payload, clock());
    settle(message, device.kind, result, () => device, done);
  }

  function acceptStatus(device: DeviceRecord, message: Message, done: IngestDone): void {
    if (isStatusPayload(message.payload)) return done(undefined, false);
    const shown = JSON.stringify(message.payload.subarray(0, 32).toString('utf8'));
    const detail = `status ${shown}${message.payload.length > 32 ? '…' : ''} is neither online nor offline`;
    done(reject(message, device.kind, 'INGEST_ERR_STATUS', detail), true);
  }

  function acceptGateway(
    gatewayId: string,
    children: ReadonlySet<string>,
    message: Message,
    done: IngestDone,
  ): void {
    if (message.payload.length > maxPayloadBytes) {
      return done(
        reject(
          message,
          'unknown',
          'INGEST_ERR_TOO_LARGE',
          `${message.payload.length} > ${maxPayloadBytes} bytes`,
        ),
        true,
      );
    }
    const lookupChild = (id: string) => (children.has(id) ? getDevice(id) : undefined);
    const result = decodeGatewayPayload(gatewayId, message.payload, clock(), lookupChild);
    settle(message, 'unknown', result, (r) => lookupChild(r.device), done);
  }

  return {
    acceptDevice,
    acceptStatus,
    acceptGateway,
    onReadings(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

function countByKind(readings: readonly Reading[], metrics: IngestMetrics): void {
  if (readings.length === 1) return metrics.readingsAccepted(readings[0]!.kind, 1);
  const counts = new Map<Kind, number>();
  for (const r of readings) counts.set(r.kind, (counts.get(r.kind) ?? 0) + 1);
  for (const [kind, n] of counts) metrics.readingsAccepted(kind, n);
}
