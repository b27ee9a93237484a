// Holds: a key's items wait behind its writes in flight, in order, and other keys go on; an exclusive turn
// waits for the writes in flight and holds every key until it is over.
import { describe, expect, it } from 'vitest';
import { createHolds } from './holds.ts';

/** A write the test settles by hand. */
function write(): { promise: Promise<void>; settle: () => void; fail: () => void } {
  let settle!: () => void;
  let fail!: () => void;
  const promise = new Promise<void>((resolve, reject) => {
    settle = resolve;
    fail = () => reject(new Error('refused'));
  });
  return { promise, settle, fail };
}

describe('createHolds', () => {
  it('runs at once a key with nothing in flight, and queues behind a write the items of its key only', async () => {
    const ran: string[] = [];
    const holds = createHolds<string>((key, item) => ran.push(`${key}:${item}`));
    holds.offer('a', '1');
    const w = write();
    holds.hold(['a'], w.promise);
    holds.offer('a', '2');
    holds.offer('b', '1');
    holds.offer('a', '3');
    expect(ran).toEqual(['a:1', 'b:1']);
    expect(holds.isHeld('a')).toBe(true);
    w.fail(); // a refused write releases its key as a recorded one does
    await holds.settled();
    expect(ran).toEqual(['a:1', 'b:1', 'a:2', 'a:3']);
    expect(holds.isHeld('a')).toBe(false);
  });

  it('keeps the order when a released item starts a write of its own', async () => {
    const ran: string[] = [];
    const writes: Array<ReturnType<typeof write>> = [];
    const holds = createHolds<string>((key, item) => {
      ran.push(item);
      if (item === '2') {
        const w = write();
        writes.push(w);
        holds.hold([key], w.promise);
      }
    });
    const first = write();
    holds.hold(['a'], first.promise);
    for (const item of ['2', '3', '4']) holds.offer('a', item);
    first.settle();
    await new Promise((resolve) => setImmediate(resolve));
    expect(ran).toEqual(['2']);
    writes[0]!.settle();
    await holds.settled();
    expect(ran).toEqual(['2', '3', '4']);
  });

  it('starts an exclusive turn once the writes in flight settle, and holds every key until it is over', async () => {
    const ran: string[] = [];
    const holds = createHolds<string>((key, item) => ran.push(`${key}:${item}`));
    const w = write();
    holds.hold(['a'], w.promise);
    holds.offer('a', '1');
    let turnStarted = false;
    const end = write();
    const turn = holds.exclusive(async () => {
      turnStarted = true;
      await end.promise;
    });
    holds.offer('b', '1');
    await new Promise((resolve) => setImmediate(resolve));
    expect(turnStarted).toBe(false);
    w.settle();
    await new Promise((resolve) => setImmediate(resolve));
    expect(turnStarted).toBe(true);
    holds.offer('b', '2');
    expect(ran).toEqual([]);
    expect(holds.isHeld('c')).toBe(true); // a tick leaves every device alone meanwhile
    end.settle();
    await turn;
    expect(ran).toEqual(['b:1', 'a:1', 'b:2']);
    expect(holds.isHeld('c')).toBe(false);
  });

  it('lets what waited go even when the exclusive work fails', async () => {
    const ran: string[] = [];
    const holds = createHolds<string>((key, item) => ran.push(`${key}:${item}`));
    const turn = holds.exclusive(() => Promise.reject(new Error('store down')));
    holds.offer('a', '1');
    await expect(turn).rejects.toThrow('store down');
    await holds.settled();
    expect(ran).toEqual(['a:1']);
  });
});
