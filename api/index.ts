// The HTTP API's one public entry: the factory, its configuration and dependencies, and the error table.
export { createApi, type Api, type ApiApp, type ApiConfig, type ApiDeps } from './api.ts';
export { API_ERRORS, ApiError, ErrorBody, type ApiErrorCode } from './errors.ts';
export { hasRole, ROLE_ORDER } from './auth.ts';
export type {
  ApiAlerts,
  ApiDeadLetters,
  ApiInflux,
  ApiRegistry,
  ApiRules,
  RuleSummary,
} from './route-kit.ts';
export { summarize as summarizeRule } from './rules-routes.ts';
export { METRICS_CONTENT_TYPE, type HealthReport } from './system-routes.ts';
