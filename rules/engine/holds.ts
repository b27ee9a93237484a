// Readings wait for the transitions before them. A transition is written to the alert store, which may
// answer later (PostgreSQL in a cluster); if the store refuses it, the (rule, device)'s state is put back
// so that the next reading makes it again, and that is only right if no reading of the device has moved
// the state on meanwhile. So while a device has a transition in flight its next readings wait, in order,
// and run when the write settles; other devices go on. A reconciliation with the store holds every
// device: it starts once the writes in flight have settled and readings wait until it is over.

export interface Holds<T> {
  /** Runs the item now, or queues it behind its key's writes in flight, or behind a reconciliation. */
  offer(key: string, item: T): void;
  /** Whether the key has a write in flight, or an exclusive turn is due (a tick leaves it for the next). */
  isHeld(key: string): boolean;
  /** Holds the keys until `write` settles, then runs what waited for them, in order. */
  hold(keys: readonly string[], write: Promise<unknown>): void;
  /**
   * Holds every key from now: waits for the writes in flight, runs `work`, then lets what waited go (each
   * key's items in order). Turns run one after the other.
   */
  exclusive(work: () => Promise<void>): Promise<void>;
  /** Resolves when no write is in flight and nothing waits. */
  settled(): Promise<void>;
}

const ignore = () => undefined;

export function createHolds<T>(run: (key: string, item: T) => void): Holds<T> {
  const held = new Map<string, { writes: number; waiting: T[] }>();
  const writes = new Set<Promise<void>>();
  /** Exclusive turns asked for and not over, and what waits for them. */
  let exclusives = 0;
  let paused: Array<readonly [string, T]> = [];
  let turns: Promise<void> = Promise.resolve();

  function offer(key: string, item: T): void {
    const h = held.get(key);
    if (h !== undefined) h.waiting.push(item);
    else if (exclusives > 0) paused.push([key, item]);
    else run(key, item);
  }

  function release(key: string): void {
    const h = held.get(key);
    if (h === undefined || --h.writes > 0) return;
    held.delete(key);
    // An item that starts a write of its own holds the key again: the rest queue behind that write.
    for (const item of h.waiting) offer(key, item);
  }

  return {
    offer,
    isHeld: (key) => exclusives > 0 || held.has(key),
    hold(keys, write) {
      for (const key of keys) {
        const h = held.get(key);
        if (h === undefined) held.set(key, { writes: 1, waiting: [] });
        else h.writes++;
      }
      const done: Promise<void> = write.then(ignore, ignore).then(() => {
        writes.delete(done);
        for (const key of keys) release(key);
      });
      writes.add(done);
    },
    exclusive(work) {
      exclusives++;
      const turn = turns
        .then(async () => {
          while (writes.size > 0) await Promise.all([...writes]);
          await work();
        })
        .finally(() => {
          if (--exclusives > 0) return;
          const waiting = paused;
          paused = [];
          for (const [key, item] of waiting) offer(key, item);
        });
      turns = turn.catch(ignore);
      return turn;
    },
    async settled() {
      while (writes.size > 0 || exclusives > 0) await Promise.all([...writes, turns]);
    },
  };
}
