// Whether anyone in the cluster reads the decoded readings. Each node knows its own readers
// (readings-readers.ts); it tells the others over the brokers' shared bus, on `$SYS/<node>/readings-wanted`,
// when that changes and again with every heartbeat, as Aedes announces its brokers' liveness on
// `$SYS/<node>/heartbeat`. A node that stops saying so (it died) counts as wanting nothing after three
// heartbeats. The readings are then published on the node that accepted them, and the bus carries them to
// the reader's node.
import type { Aedes } from 'aedes';
import type { RedisLink } from './redis-link.ts';

export interface ClusterReaders {
  /** This node's own readers came or went. */
  local(wanted: boolean): void;
  close(): void;
}

const TOPIC = (node: string) => `$SYS/${node}/readings-wanted`;

export function createClusterReaders(
  aedes: Aedes,
  link: Pick<RedisLink, 'mq' | 'nodeId'>,
  heartbeatMs: number,
  onWanted: (wanted: boolean) => void,
): ClusterReaders {
  const node = link.nodeId;
  let mine = false;
  /** Other nodes that said they have readers, and when they last said so. */
  const others = new Map<string, number>();
  let told = false;

  const update = () => {
    const stale = Date.now() - 3 * heartbeatMs;
    for (const [other, at] of others) if (at < stale) others.delete(other);
    const now = mine || others.size > 0;
    if (now === told) return;
    told = now;
    onWanted(now);
  };
  const announce = () =>
    aedes.publish(
      {
        cmd: 'publish',
        topic: TOPIC(node),
        payload: Buffer.from(mine ? '1' : '0'),
        qos: 0,
        retain: false,
        dup: false,
      },
      () => undefined,
    );
  const heard = (packet: { topic: string; payload?: unknown }, done: () => void) => {
    const other = packet.topic.split('/')[1];
    if (other !== undefined && other !== node) {
      if (String(packet.payload) === '1') others.set(other, Date.now());
      else others.delete(other);
      update();
    }
    done();
  };
  link.mq.on(TOPIC('+'), heard);
  const timer = setInterval(() => {
    if (mine) announce();
    update();
  }, heartbeatMs);
  timer.unref();

  return {
    local(wanted) {
      mine = wanted;
      announce();
      update();
    },
    close() {
      clearInterval(timer);
      link.mq.removeListener(TOPIC('+'), heard);
    },
  };
}
