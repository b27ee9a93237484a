// The whole cluster for a test (bench/servers/cluster.ts), its nodes writing to the integration tier's influxd.
import { inject } from 'vitest';
import { startCluster as start, type TestCluster } from '../../bench/servers/cluster.ts';

export type { ClusterNode, TestCluster } from '../../bench/servers/cluster.ts';

export const startCluster = (options: {
  nodes: number;
  env?: Record<string, string>;
}): Promise<TestCluster> => start({ ...options, influxUrl: inject('influxUrl') });
