// /api/rules: the rules in force, a rule file checked without putting it in force, and a rule file run over
// stored history (backtest). Checking a file is the route's purpose, so a file with problems is a 200 with
// the problems as data; only a request the route cannot read is a 400. A backtest needs a valid file, so
// there an invalid one is a 422 with the same problems in the error's details.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BacktestReport, type ParseResult, type Rule } from '../rules/index.ts';
import type { Auth } from './auth.ts';
import { ApiError } from './errors.ts';
import { AUTH_ERRORS, BEARER, errorResponses, fileProblem, RuleSummary, type ApiRules } from './route-kit.ts';
import { instant, INSTANT_FORMS, MAX_TIME_MS } from './time-range.ts';

/** The largest rule file accepted, in UTF-8 bytes; the Huế files are under 8 KiB each. */
export const MAX_RULE_SOURCE_BYTES = 512 * 1024;
/** JSON escaping of newlines and quotes can double a YAML text: room for that, for these routes only. */
export const RULES_BODY_LIMIT = 2 * MAX_RULE_SOURCE_BYTES + 4096;
/** The longest backtest range: a month of history is what an engineer tunes a rule against. */
export const MAX_BACKTEST_MS = 31 * 24 * 60 * 60 * 1000;
export const DEFAULT_RULE_FILE_NAME = 'rules.yaml';

export interface RuleRouteDeps {
  readonly auth: Auth;
  readonly rules: ApiRules;
  /** The time `now` means in relative instants. */
  readonly clock: () => number;
}

const Source = z
  .string()
  .min(1)
  .refine((s) => Buffer.byteLength(s, 'utf8') <= MAX_RULE_SOURCE_BYTES, {
    message: `at most ${MAX_RULE_SOURCE_BYTES} bytes of UTF-8`,
  })
  .describe(`the rule file's YAML text (at most ${MAX_RULE_SOURCE_BYTES / 1024} KiB)`);

const FileName = z
  .string()
  .regex(/^[^\p{Cc}/\\]{1,200}$/u, 'a file name: no slashes or control characters, at most 200 characters')
  .default(DEFAULT_RULE_FILE_NAME)
  .describe('the name problems are reported against');

/** In a JSON body an instant may be epoch ms as a number, or any query-string form. */
const bodyInstant = (clock: () => number) =>
  z.union([z.number().int().min(0).max(MAX_TIME_MS), instant(clock)]);

const ValidateBody = z.strictObject({ source: Source, name: FileName });
const backtestBody = (clock: () => number) =>
  ValidateBody.extend({
    from: bodyInstant(clock).describe('start, inclusive: ' + INSTANT_FORMS),
    to: bodyInstant(clock).describe(
      `end, exclusive; at most ${MAX_BACKTEST_MS / 86_400_000} days after from`,
    ),
  });

const Problem = fileProblem(
  'RULES_ERR_YAML, RULES_ERR_SCHEMA, RULES_ERR_DUPLICATE_ID or RULES_ERR_UNKNOWN_AGENCY',
);

const Validation = z
  .discriminatedUnion('valid', [
    z.object({ valid: z.literal(true), rules: z.array(RuleSummary) }),
    z.object({ valid: z.literal(false), problems: z.array(Problem) }),
  ])
  .describe('the verdict: the rules the file defines, or every problem with its line and column');

const RuleList = z.object({ rules: z.array(RuleSummary) });

export function summarize(rule: Rule, file: string): RuleSummary {
  const summary = {
    id: rule.id,
    title: rule.title,
    severity: rule.severity,
    owner: rule.owner,
    type: rule.condition.type,
    ...('field' in rule.condition ? { field: rule.condition.field } : {}),
    file,
  };
  return rule.select.kind === undefined ? summary : { ...summary, kind: rule.select.kind };
}

function verdict(result: ParseResult, file: string): z.infer<typeof Validation> {
  return result.ok
    ? { valid: true, rules: result.rules.map((r) => summarize(r, file)) }
    : { valid: false, problems: result.problems };
}

function checkRange(from: number, to: number): void {
  if (from >= to) {
    throw new ApiError('API_ERR_VALIDATION', '`from` must be before `to`', {
      details: { in: 'body', issues: [{ path: '/from', message: 'from >= to', code: 'custom' }] },
    });
  }
  if (to - from > MAX_BACKTEST_MS) {
    const days = MAX_BACKTEST_MS / 86_400_000;
    throw new ApiError('API_ERR_RANGE_TOO_LONG', `a backtest covers at most ${days} days; split the range`);
  }
}

export function rulesRoutes({ auth, rules, clock }: RuleRouteDeps): FastifyPluginAsyncZod {
  const tags = ['rules'];
  const BacktestBody = backtestBody(clock);

  return (app) => {
    app.get('/rules', {
      onRequest: auth.requireRole('viewer'),
      schema: {
        tags,
        summary: 'The rules in force',
        security: BEARER,
        response: { 200: RuleList, ...errorResponses(...AUTH_ERRORS) },
      },
      handler: () => Promise.resolve({ rules: rules.inForce().map((r) => summarize(r.rule, r.file)) }),
    });

    app.post('/rules/validate', {
      onRequest: auth.requireRole('engineer'),
      bodyLimit: RULES_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Check a rule file without putting it in force',
        description:
          'A file with problems is a 200 with `valid: false` and the problems: the check itself worked. ' +
          'A 400 means the request could not be read (no `source`, a bad name).',
        security: BEARER,
        body: ValidateBody,
        response: { 200: Validation, ...errorResponses(...AUTH_ERRORS, 'API_ERR_PAYLOAD_TOO_LARGE') },
      },
      handler: (request) => {
        const { source, name } = request.body;
        return Promise.resolve(verdict(rules.validate(source, name), name));
      },
    });

    app.post('/rules/backtest', {
      onRequest: auth.requireRole('engineer'),
      bodyLimit: RULES_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Run a rule file over stored history: the alerts it would have raised',
        description:
          'An invalid file is a 422 API_ERR_RULES_INVALID whose `details.problems` are those of ' +
          `/api/rules/validate; a range over ${MAX_BACKTEST_MS / 86_400_000} days is a 400.`,
        security: BEARER,
        body: BacktestBody,
        response: {
          200: BacktestReport,
          ...errorResponses(
            ...AUTH_ERRORS,
            'API_ERR_RULES_INVALID',
            'API_ERR_RANGE_TOO_LONG',
            'API_ERR_PAYLOAD_TOO_LARGE',
            'API_ERR_INFLUX_UNAVAILABLE',
          ),
        },
      },
      handler: async (request) => {
        const { source, name, from, to } = request.body;
        checkRange(from, to);
        const parsed = rules.validate(source, name);
        if (!parsed.ok) {
          throw new ApiError('API_ERR_RULES_INVALID', `${name} has ${parsed.problems.length} problem(s)`, {
            details: { problems: parsed.problems },
          });
        }
        const report = await rules.backtest({ source, name, from, to });
        request.log.info({ file: name, transitions: report.transitions.length }, 'backtest run');
        return report;
      },
    });

    return Promise.resolve();
  };
}
