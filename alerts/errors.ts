// Error codes of the alert lifecycle (docs/conventions.md, "Errors and logs": one table, codes stable). The API
// answers an operator's action on a missing alert with 404 and on an alert in the wrong state with 409;
// a store failure is the platform's problem, not the caller's.
import { errorClass, isErrorOf } from '../errors/index.ts';

export const ALERTS_ERRORS = {
  ALERTS_ERR_NOT_FOUND: 'no alert has this id',
  ALERTS_ERR_STATE:
    'the alert is not in a state that allows this action (acknowledge needs open, resolve needs open or acknowledged)',
  ALERTS_ERR_INVALID:
    'a trigger, filter or saved state does not validate (bad time, value, severity or JSON)',
  ALERTS_ERR_STORE: 'the alert database could not be opened, migrated, read or written',
  ALERTS_ERR_CLOSED: 'the alert store was used after close()',
  ALERTS_ERR_FENCED:
    "in a cluster, a rule's transition or state came from a node whose lease on the device's partition another node has taken since; the new owner's evaluation stands",
} as const;

export type AlertsErrorCode = keyof typeof ALERTS_ERRORS;

export class AlertsError extends errorClass('AlertsError', ALERTS_ERRORS) {}

export const isAlertsError = isErrorOf(AlertsError);
