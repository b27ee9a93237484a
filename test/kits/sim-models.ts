// Helpers shared by the models' tests: run a model over a series of instants, check fields against
// the kinds' ranges. No I/O.
import { fieldSpec, type Kind } from '../../devices/index.ts';
import type { Model, SimFields, SimInstant } from '../../simulators/models/time.ts';

export function runSeries<S>(model: Model<S>, instants: readonly SimInstant[]): SimFields[] {
  const first = instants[0];
  if (!first) return [];
  let state = model.initial(first);
  return instants.map((at) => {
    const out = model.step(state, at);
    state = out.state;
    return out.fields;
  });
}

/** Instants from `start` every `stepMs` for `count` steps; scenario time runs `speedup` times faster. */
export function instants(start: number, stepMs: number, count: number, speedup = 1): SimInstant[] {
  return Array.from({ length: count }, (_, i) => ({
    t: start + i * stepMs,
    scenarioMs: i * stepMs * speedup,
  }));
}

/** Field names out of range or unknown for the kind; empty when the reading is well formed. */
export function outOfRange(kind: Kind, fields: SimFields): string[] {
  const bad: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    const spec = fieldSpec(kind, name);
    if (!spec) bad.push(`${name}: unknown`);
    else if (
      spec.type === 'boolean'
        ? typeof value !== 'boolean'
        : typeof value !== 'number' || !Number.isFinite(value)
    )
      bad.push(`${name}: wrong type`);
    else if (
      typeof value === 'number' &&
      ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max))
    )
      bad.push(`${name}: ${value} out of range`);
  }
  return bad;
}

export function num(fields: SimFields, name: string): number {
  const v = fields[name];
  if (typeof v !== 'number') throw new TypeError(`${name} is not a number`);
  return v;
}
