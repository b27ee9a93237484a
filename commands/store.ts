// The command store's contract: every command asked for, its state, and each transition, kept after the
// commands end (the history of what the city told its devices). One process keeps it in SQLite
// (store-sqlite.ts), a cluster in PostgreSQL (store-postgres.ts), where command ids are one space for
// every node and a command queued through one node is sent by the node its device listens on.
import type { CommandType, Kind } from '../devices/index.ts';
import type { CommandCheck, CommandState } from '../measurements/index.ts';

export type { CommandCheck, CommandState } from '../measurements/index.ts';

export interface CommandRecord {
  readonly id: number;
  readonly batch: number;
  readonly device: string;
  readonly kind: Kind;
  readonly district: string;
  readonly type: CommandType;
  readonly params: Readonly<Record<string, unknown>>;
  readonly state: CommandState;
  /** Who asked: a user's name, a token's label, a rule. */
  readonly by: string;
  /** ms since the epoch. */
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly updatedAt: number;
  /** How many times it was published to the device. */
  readonly attempts: number;
  /** A refusal's reason, or what the device's reading showed. */
  readonly detail: string | null;
  /** The check of its result against the device's next reading, for the commands a reading shows. */
  readonly check: 'pending' | CommandCheck | null;
  /** ms since the epoch: when a pending check fails if no reading has shown the result. */
  readonly checkDue: number | null;
  /** The value of the checked field a reading showed last, while the check is pending and not matched. */
  readonly checkSeen: number | boolean | null;
}

export interface CommandEvent {
  readonly at: number;
  /** A state the command reached, or `matched`/`mismatched` for its check. */
  readonly state: CommandState | CommandCheck;
  readonly detail: string | null;
}

export interface NewCommand {
  readonly device: string;
  readonly kind: Kind;
  readonly district: string;
  readonly params: Readonly<Record<string, unknown>>;
  /** Set when a reading will show the result: the check starts once the device acknowledges. */
  readonly checked: boolean;
}

export interface CommandFilter {
  readonly device?: string;
  readonly batch?: number;
  readonly state?: CommandState;
  /** Newest first, ids below this one. */
  readonly before?: number;
  readonly limit: number;
}

export interface CommandStore {
  /** One batch and its commands, in one transaction; the commands come back queued. */
  create(
    batch: { type: CommandType; target: unknown; by: string; at: number; expiresAt: number },
    commands: readonly NewCommand[],
  ): Promise<{ batch: number; commands: CommandRecord[] }>;
  get(id: number): Promise<CommandRecord | undefined>;
  events(id: number): Promise<CommandEvent[]>;
  list(filter: CommandFilter): Promise<CommandRecord[]>;
  /** Queued or sent, not expired: what a device that comes back must get. */
  waiting(device: string): Promise<CommandRecord[]>;
  /** Queued and never sent, of one batch or of all: what another node asked for and may wait here. */
  queued(batch?: number): Promise<CommandRecord[]>;
  /**
   * Each command published once more: queued becomes sent, and its attempt is counted; one transaction.
   * `queuedOnly`: only those still queued (a command another path has sent already is left to it).
   */
  markSent(ids: readonly number[], at: number, queuedOnly?: boolean): Promise<CommandRecord[]>;
  /**
   * The device's answer, if the command is still waiting for one; undefined when it was answered already,
   * expired or is not the device's. `checkDue` starts its check when done and a reading will show it.
   */
  finish(
    id: number,
    device: string,
    result: 'acknowledged' | 'failed',
    at: number,
    detail: string | null,
    checkDue: number | null,
  ): Promise<CommandRecord | undefined>;
  /** Commands waiting past their expiry at `now`, made expired; each by one caller only. */
  expire(now: number): Promise<CommandRecord[]>;
  /** Devices with a check pending. */
  devicesChecking(): Promise<string[]>;
  /** The device's commands whose result a reading can show, pending a check. */
  pendingChecks(device: string): Promise<CommandRecord[]>;
  /**
   * Ends the checks due by `now` that no reading answered, each as `judge` says from the command (its last
   * value seen); one transaction, each check ended by one caller only (another node's are left to it).
   */
  endDueChecks(now: number, judge: (c: CommandRecord) => CheckEnd): Promise<EndedCheck[]>;
  /** What a reading showed of a pending check's field when it was not the result (the mismatch's detail). */
  seen(id: number, value: number | boolean): Promise<void>;
  /** Ends a pending check; undefined when it had ended already (by this node or another). */
  setCheck(id: number, check: CommandCheck, at: number, detail: string): Promise<CommandRecord | undefined>;
  /**
   * In a cluster, told of each batch queued through another node (undefined: notices may have been missed,
   * as when the database connection was lost), so that this node sends what waits for its devices.
   */
  onQueuedElsewhere?(listener: (batch: number | undefined) => void): void;
  close(): Promise<void>;
}

/** How a check ends, and why. */
export interface CheckEnd {
  readonly check: CommandCheck;
  readonly detail: string;
}

/** A check ended: the command as it is now, and how its check ended. */
export interface EndedCheck extends CheckEnd {
  readonly command: CommandRecord;
}

/** A command's row as both databases read it. */
export interface Row {
  id: number;
  batch_id: number;
  device: string;
  kind: string;
  district: string;
  type: string;
  params: string;
  state: string;
  by: string;
  created_at: number;
  expires_at: number;
  updated_at: number;
  attempts: number;
  detail: string | null;
  check_state: string | null;
  check_due: number | null;
  check_seen: string | null;
}

export function record(r: Row): CommandRecord {
  return {
    id: r.id,
    batch: r.batch_id,
    device: r.device,
    kind: r.kind as Kind,
    district: r.district,
    type: r.type as CommandType,
    params: JSON.parse(r.params) as Record<string, unknown>,
    state: r.state as CommandState,
    by: r.by,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    updatedAt: r.updated_at,
    attempts: r.attempts,
    detail: r.detail,
    check: r.check_state as CommandRecord['check'],
    checkDue: r.check_due,
    checkSeen: r.check_seen === null ? null : (JSON.parse(r.check_seen) as number | boolean),
  };
}
