// One entry for the engine: the state of any condition, created, advanced by a reading or a tick, and
// restored from JSON (through each state's zod schema: parsed, never cast).
import { z } from 'zod';
import type { Reading } from '../../devices/index.ts';
import { RulesError } from '../errors.ts';
import type { Rule } from '../schema.ts';
import { aqiInit, aqiReading, AqiState } from './aqi.ts';
import { exprInit, exprReading, ExprState } from './expr.ts';
import { absenceInit, absenceReading, absenceTick, AbsenceState } from './absence.ts';
import { rateInit, rateReading, RateState, rateTick } from './rate.ts';
import { thresholdInit, thresholdReading, ThresholdState } from './threshold.ts';
import type { EvalContext, Step } from './types.ts';
import { windowInit, windowReading, WindowState, windowTick } from './window.ts';

export const EvaluatorState = z.discriminatedUnion('type', [
  ThresholdState,
  RateState,
  AbsenceState,
  WindowState,
  ExprState,
  AqiState,
]);
export type EvaluatorState = z.infer<typeof EvaluatorState>;

/** A fresh state; `now` starts an absence rule's watch. `undefined` for conditions not evaluated here. */
export function initialState(rule: Rule, now: number): EvaluatorState | undefined {
  switch (rule.condition.type) {
    case 'threshold':
      return thresholdInit();
    case 'rate':
      return rateInit();
    case 'absence':
      return absenceInit(now);
    case 'window':
      return windowInit();
    case 'expr':
      return exprInit();
    case 'aqi':
      return aqiInit();
    default:
      return undefined;
  }
}

/** Restores a persisted state. A state of another condition type (the rule changed) starts afresh. */
export function restoreState(rule: Rule, json: unknown, now: number): EvaluatorState | undefined {
  const parsed = EvaluatorState.safeParse(json);
  if (!parsed.success)
    throw new RulesError('RULES_ERR_STATE', `rule ${rule.id}: ${z.prettifyError(parsed.error)}`, {
      cause: parsed.error,
    });
  return parsed.data.type === rule.condition.type ? parsed.data : initialState(rule, now);
}

// Evaluators are given `{ severity, condition }` (an `EvalRule`), built as a literal: spreading the whole
// rule per reading and rule was a measurable part of the per-reading cost (bench/evaluators.ts).

/** Feeds one reading of the device; a state of the wrong type (the rule changed) is replaced first. */
export function onReading(
  rule: Rule,
  state: EvaluatorState,
  reading: Reading,
  ctx: EvalContext,
): Step<EvaluatorState> | undefined {
  const c = rule.condition;
  const s = state.type === c.type ? state : initialState(rule, reading.time);
  if (c.type === 'threshold' && s?.type === 'threshold')
    return thresholdReading({ severity: rule.severity, condition: c }, s, reading, ctx);
  if (c.type === 'rate' && s?.type === 'rate')
    return rateReading({ severity: rule.severity, condition: c }, s, reading, ctx);
  if (c.type === 'absence' && s?.type === 'absence')
    return absenceReading({ severity: rule.severity, condition: c }, s, reading, ctx);
  if (c.type === 'window' && s?.type === 'window')
    return windowReading({ severity: rule.severity, condition: c }, s, reading, ctx);
  if (c.type === 'expr' && s?.type === 'expr')
    return exprReading({ severity: rule.severity, condition: c }, s, reading, ctx);
  if (c.type === 'aqi' && s?.type === 'aqi')
    return aqiReading({ severity: rule.severity, condition: c }, s, reading, ctx);
  return undefined;
}

/** Lets time pass with no reading: absence fires, windows and rates let old values go. */
export function onTick(
  rule: Rule,
  state: EvaluatorState,
  now: number,
  ctx: EvalContext,
): Step<EvaluatorState> | undefined {
  const c = rule.condition;
  const s = state.type === c.type ? state : initialState(rule, now);
  if (c.type === 'absence' && s?.type === 'absence')
    return absenceTick({ severity: rule.severity, condition: c }, s, now, ctx);
  if (c.type === 'window' && s?.type === 'window')
    return windowTick({ severity: rule.severity, condition: c }, s, now, ctx);
  if (c.type === 'rate' && s?.type === 'rate')
    return rateTick({ severity: rule.severity, condition: c }, s, now, ctx);
  // Threshold, CEL and AQI conditions act on evidence only: time passing changes nothing (an hourly
  // index changes as hours complete, and acting on that without a reading would be acting on no evidence).
  if (
    (c.type === 'threshold' && s?.type === 'threshold') ||
    (c.type === 'expr' && s?.type === 'expr') ||
    (c.type === 'aqi' && s?.type === 'aqi')
  )
    return { state: s };
  return undefined;
}
