// Keeping the alert store and the rule core in step. They agree after every transition, but a reload, a
// decommissioned device, a state that could not be saved or restored can leave one of them behind:
// - an open alert whose (rule, device) is not up in the core would stay open for ever: its rule was
//   removed or its condition changed (the state starts afresh), its device was decommissioned or is no
//   longer selected. It is resolved, with the reason as its note; a condition that still holds raises anew.
// - a state that is up with no open alert would keep the rule silent until its condition clears: its
//   levels start afresh, as after an operator's resolve, so the rule raises again if it still holds.
import type { Logger } from 'pino';
import type { AlertService } from '../../alerts/index.ts';
import type { Alert, Fence, SavedState, TriggerInput } from '../../alerts/index.ts';
import type { RuleCore } from './core.ts';

export const ORPHAN_NOTES = {
  gone: 'resolved by the rules engine: the rule no longer applies to this device (removed, no longer selecting it, or the device was decommissioned)',
  restarted:
    'resolved by the rules engine: the rule changed and its evaluation started afresh; it raises again if the condition still holds',
} as const;

export interface ReconcileDeps {
  readonly alerts: Pick<AlertService, 'listOpen' | 'triggerAll'>;
  readonly core: Pick<RuleCore, 'firing' | 'firingKeys' | 'reset'>;
  readonly log: Logger;
  readonly clock: () => number;
  /** A state the reconciliation started afresh, to save. */
  readonly onReset: (state: SavedState) => void;
  /** Whether this node evaluates the device (in a cluster, the others' alerts are theirs to reconcile). */
  readonly owns?: (device: string) => boolean;
  /** In a cluster, the lease a device's alert is closed under: refused if another node took it since. */
  readonly fenceOf?: (device: string) => Fence | undefined;
}

export async function reconcileAlerts(deps: ReconcileDeps): Promise<void> {
  const { alerts, core, log, clock, onReset, owns = () => true } = deps;
  let open: Alert[];
  try {
    open = (await alerts.listOpen()).filter((a) => a.source === 'rule' && owns(a.device));
  } catch (err) {
    log.error({ err }, 'open alerts not read; not reconciled with the rules');
    return;
  }
  for (const a of open) {
    const up = core.firing(a.rule, a.device);
    if (up === true) continue;
    const note = up === undefined ? ORPHAN_NOTES.gone : ORPHAN_NOTES.restarted;
    try {
      const input = closingOf(a, clock(), note);
      const [outcome] = await alerts.triggerAll([{ input, fence: deps.fenceOf?.(a.device) }]);
      if (outcome?.ok === false) throw outcome.error;
      log.warn({ alert: a.id, rule: a.rule, device: a.device, note }, 'open alert resolved by the engine');
    } catch (err) {
      log.error({ err, alert: a.id }, 'open alert not resolved');
    }
  }
  const withAlert = new Set(open.map((a) => key(a.rule, a.device)));
  for (const { rule, device } of core.firingKeys()) {
    if (withAlert.has(key(rule, device))) continue;
    const state = core.reset(rule, device, clock());
    if (state === undefined) continue;
    onReset(state);
    log.warn({ rule, device }, 'rule state was up with no open alert; its levels start afresh');
  }
}

const key = (rule: string, device: string) => `${rule}\u0000${device}`;

/** A clear of an open alert as it stands (its value and level), at `at`, with the reason as its note. */
function closingOf(a: Alert, at: number, note: string): TriggerInput {
  return {
    type: 'clear',
    rule: a.rule,
    device: a.device,
    kind: a.kind,
    district: a.district,
    owner: a.owner,
    title: a.title,
    severity: a.severity,
    message: `${a.title}: closed by the rules engine`,
    value: a.value,
    threshold: a.threshold,
    level: a.level,
    at,
    source: 'rule',
    note,
  };
}
