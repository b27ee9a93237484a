// Messages from one node of a cluster to another, over the brokers' shared bus (mqemitter-redis): a node
// sends on `$SYS/<node>/<channel>` and only that node listens there. As with any Redis publish, a message
// reaches a node that is up and listening, at most once; what must not be lost does not travel this way.
import type { Aedes } from 'aedes';
import type { RedisLink } from './redis-link.ts';

export interface NodeBus {
  /** This node's name. */
  readonly node: string;
  /** Sends `payload` to `node`'s listeners of `channel`. */
  send(node: string, channel: string, payload: Buffer): void;
  /** Listens on this node's `channel`; returns the function that stops listening. */
  on(channel: string, handler: (payload: Buffer) => void): () => void;
}

export function createNodeBus(aedes: Aedes, link: Pick<RedisLink, 'mq' | 'nodeId'>): NodeBus {
  const topic = (node: string, channel: string) => `$SYS/${node}/${channel}`;
  return {
    node: link.nodeId,
    send(node, channel, payload) {
      aedes.publish(
        { cmd: 'publish', topic: topic(node, channel), payload, qos: 0, retain: false, dup: false },
        () => undefined,
      );
    },
    on(channel, handler) {
      const heard = (packet: { topic: string; payload?: unknown }, done: () => void) => {
        const { payload } = packet;
        handler(Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : ''));
        done();
      };
      const at = topic(link.nodeId, channel);
      link.mq.on(at, heard);
      return () => void link.mq.removeListener(at, heard);
    },
  };
}
