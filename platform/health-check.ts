// What GET /health answers: InfluxDB reachable, the spool writable and its backlog, the writer moving, the
// MQTT clients. `ok` is false when InfluxDB does not answer its ping (readings are then held in the
// spool, not stored), when the spool cannot write (publishes are refused, not acknowledged), or when the
// writer is stuck (InfluxDB, or reading and checkpointing the spool, failing), or, on a cluster node, when
// Redis does not answer (the node refuses MQTT clients then): each part says why. A cluster node also says
// which partitions of the device space it evaluates the rules of, and whether it is the one notifying.
import type { HealthReport } from '../api/index.ts';
import type { ClusterStatus } from '../broker/index.ts';
import type { Registry } from '../devices/index.ts';
import type { Spool, Writer } from '../ingest/index.ts';
import type { InfluxClient } from '../influx/index.ts';

export interface HealthCheckDeps {
  readonly influx: Pick<InfluxClient, 'ping'>;
  readonly spool: Pick<Spool, 'stats' | 'appendFailure'>;
  readonly writer: Pick<Writer, 'status'>;
  readonly clients: () => number;
  /** The registry's database: PostgreSQL may be away (reads go on from memory; writes are refused). */
  readonly registry?: Pick<Registry, 'storage'>;
  /** A cluster node's link to Redis; undefined for a single node. */
  readonly cluster?: () => ClusterStatus | undefined;
  /** A cluster node's partitions of the device space, whose devices' rules it evaluates (alerts/partitions.ts). */
  readonly partitions?: () => number[];
  /** Whether a cluster node holds the notifier's lease: it makes and sends every node's notifications. */
  readonly notifier?: () => boolean;
}

export function createHealthCheck(deps: HealthCheckDeps): () => Promise<HealthReport> {
  return async () => {
    const ping = await deps.influx.ping();
    const appendFailure = deps.spool.appendFailure();
    const writer = deps.writer.status();
    const cluster = deps.cluster?.();
    const registry = await deps.registry?.storage();
    return {
      ok:
        ping.ok &&
        appendFailure === undefined &&
        writer.ok &&
        cluster?.redis !== 'down' &&
        registry?.ok !== false,
      influx: ping,
      spool: {
        ...deps.spool.stats(),
        writable: appendFailure === undefined,
        ...(appendFailure && { appendFailure }),
      },
      writer,
      mqtt: { connectedClients: deps.clients() },
      ...(cluster && {
        cluster: {
          ...cluster,
          ...(deps.partitions && { partitions: deps.partitions() }),
          ...(deps.notifier && { notifier: deps.notifier() }),
        },
      }),
      ...(registry && { registry }),
    };
  };
}
