// What one node tells the others when a store changed, through PostgreSQL's LISTEN/NOTIFY: a NOTIFY sent
// in the writing transaction is delivered when it commits, and only then, so a node that hears of a change
// can read it. Each node keeps what it reads often in memory; a change elsewhere tells it what to read
// again. A node that lost its listening connection may have missed changes: when the connection is back,
// it is told that everything may have changed.
import type { Sql, TransactionSql } from './open.ts';

/** Every topic of the store may have changed (the listening connection came back). */
export const EVERYTHING = '*';

export interface ChangeFeed {
  /** Tells the other nodes that `topic` changed; inside a transaction it is sent at commit. */
  notify(sql: Sql | TransactionSql, topic: string): Promise<void>;
  /** Told of each change another node made (or EVERYTHING). */
  on(listener: (topic: string) => void): void;
  close(): Promise<void>;
}

/** `origin` is this process's own mark: its own changes are not told back to it. */
export async function watchChanges(sql: Sql, channel: string, origin: string): Promise<ChangeFeed> {
  const listeners: Array<(topic: string) => void> = [];
  const tell = (topic: string) => {
    for (const listener of listeners) listener(topic);
  };
  let first = true;
  const listening = await sql.listen(
    channel,
    (payload) => {
      const bar = payload.indexOf('|');
      if (bar < 0 || payload.slice(0, bar) === origin) return;
      tell(payload.slice(bar + 1));
    },
    () => {
      // Called at each (re)connection of the listening connection: after the first, changes may be lost.
      if (!first) tell(EVERYTHING);
      first = false;
    },
  );
  return {
    async notify(tx, topic) {
      await tx`SELECT pg_notify(${channel}, ${`${origin}|${topic}`})`;
    },
    on: (listener) => void listeners.push(listener),
    close: () => listening.unlisten().catch(() => undefined),
  };
}
