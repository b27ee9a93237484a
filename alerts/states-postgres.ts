// The rules' saved states in PostgreSQL (store-postgres.ts), and the leases they are written under in a
// cluster (partitions.ts): a state goes in only while its node holds its partition's lease.
import type { Sql, TransactionSql } from '../postgres/index.ts';
import { partitionOf, type Fence } from './partitions.ts';
import type { SavedState } from './types.ts';

/** A state and its JSON text; null deletes it. */
export interface StateText {
  readonly state: SavedState;
  readonly text: string | null;
}

export function postgresStates(options: {
  /** This node's name, the owner a lease is checked against. */
  readonly origin: string;
  /** Whether this node holds leases (a cluster): then a state without one is not saved. */
  readonly leased: () => boolean;
}) {
  /** Whether this node still holds the lease, the lease row locked for the transaction. */
  async function holds(tx: TransactionSql, fence: Fence | undefined): Promise<boolean> {
    // Without leases (one process) nothing is fenced; with them, a rule's state comes with its lease.
    if (fence === undefined) return !options.leased();
    // KEY SHARE: a renewal (an update of the row's other columns) does not wait for it, nor it for a
    // renewal; a claim locks the row FOR UPDATE first, so it waits for this transaction, or skips the row.
    const rows = await tx`SELECT 1 FROM rule_partitions
      WHERE partition = ${fence.partition} AND owner = ${options.origin} AND token = ${fence.token} FOR KEY SHARE`;
    return rows.length > 0;
  }

  /** States written in two statements however many (a checkpoint of a busy node has thousands). */
  async function put(tx: TransactionSql, list: readonly StateText[], now: number): Promise<void> {
    const gone = list.filter((e) => e.text === null).map((e) => e.state);
    const kept = list.filter((e) => e.text !== null);
    if (gone.length > 0)
      await tx.unsafe(
        `DELETE FROM rule_states WHERE (rule, device) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
        [gone.map((s) => s.rule), gone.map((s) => s.device)],
      );
    if (kept.length > 0)
      await tx.unsafe(
        `INSERT INTO rule_states (rule, device, part, state, updated_at)
         SELECT r, d, p, s::json, $5 FROM unnest($1::text[], $2::text[], $3::int[], $4::text[]) AS t (r, d, p, s)
         ON CONFLICT (rule, device) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
        [
          kept.map((e) => e.state.rule),
          kept.map((e) => e.state.device),
          kept.map((e) => partitionOf(e.state.device)),
          kept.map((e) => e.text!),
          now,
        ],
      );
  }

  return {
    holds,
    put,
    /** Saves the states whose lease this node still holds; one whose partition another node took is its to save. */
    async saveHeld(tx: TransactionSql, list: readonly StateText[], now: number): Promise<void> {
      const held = new Map<string, boolean>();
      const kept: StateText[] = [];
      for (const entry of list) {
        const { fence } = entry.state;
        const key = fence === undefined ? '' : `${fence.partition}:${fence.token}`;
        if (!held.has(key)) held.set(key, await holds(tx, fence));
        if (held.get(key) === true) kept.push(entry);
      }
      await put(tx, kept, now);
    },
    /** The saved states, or only those of the devices of these partitions. */
    async load(sql: Sql, partitions: readonly number[] | undefined) {
      const rows = await sql.unsafe<{ rule: string; device: string; state: string; savedAt: number }[]>(
        `SELECT rule, device, state::text AS state, updated_at AS "savedAt" FROM rule_states
         WHERE $1::int[] IS NULL OR part = ANY($1::int[]) ORDER BY rule, device`,
        [partitions === undefined ? null : [...partitions]],
      );
      return rows.map((r) => ({ ...r, state: JSON.parse(r.state) as unknown }));
    },
  };
}
