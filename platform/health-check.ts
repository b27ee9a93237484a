// What GET /health answers: InfluxDB reachable, the spool's backlog, the MQTT clients. `ok` is false when
// InfluxDB does not answer its ping: readings are then held in the spool, not stored.
import type { HealthReport } from '../api/index.ts';
import type { Spool } from '../ingest/index.ts';
import type { InfluxClient } from '../influx/index.ts';

export interface HealthCheckDeps {
  readonly influx: Pick<InfluxClient, 'ping'>;
  readonly spool: Pick<Spool, 'stats'>;
  readonly clients: () => number;
}

export function createHealthCheck(deps: HealthCheckDeps): () => Promise<HealthReport> {
  return async () => {
    const ping = await deps.influx.ping();
    return {
      ok: ping.ok,
      influx: ping,
      spool: deps.spool.stats(),
      mqtt: { connectedClients: deps.clients() },
    };
  };
}
