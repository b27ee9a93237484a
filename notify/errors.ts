// Error codes of the notify component (routing, notifications and their delivery): one table, codes stable
// (docs/conventions.md, "Errors and logs"). A routing file that does not validate is data: the loader
// returns its problems, each with one of these codes.
import { errorClass, isErrorOf } from '../errors/index.ts';

export const NOTIFY_ERRORS = {
  NOTIFY_ERR_YAML: 'the routing file is not well-formed YAML (syntax, duplicate key, bad indentation)',
  NOTIFY_ERR_SCHEMA: 'the routing file does not match its schema (notify/routing.ts)',
  NOTIFY_ERR_UNKNOWN_RECEIVER:
    'a route names an agency, or a receiver of an agency, that the registry does not have (GET /api/agencies)',
  NOTIFY_ERR_FILE: 'the routing file (CITY_ROUTING_FILE) cannot be read',
  NOTIFY_ERR_STORE:
    'the notification store (notify.db in the data folder, or PostgreSQL in a cluster) could not be opened or written',
  NOTIFY_ERR_FENCED:
    "a notifier's writes refused: this node does not hold the notifier's lease (another node notifies now)",
} as const;

export type NotifyErrorCode = keyof typeof NOTIFY_ERRORS;

export class NotifyError extends errorClass('NotifyError', NOTIFY_ERRORS) {}

export const isNotifyError = isErrorOf(NotifyError);
