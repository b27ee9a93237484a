// The demo's own settings, beside the platform's (README, "Two commands"): which story the simulated fleet
// plays and how fast. Checked like the platform's configuration: every problem at once, then refused.
import { z } from 'zod';
import { Scenario } from '../simulators/index.ts';
import { ConfigError } from './config.ts';

export const DemoEnv = z.object({
  /** `city`: a bad week's storyline under way when the fleet goes live (simulators/models/time.ts,
   * CITY_STORY); `normal`: everyday life; `flood`: a rain event that drives the rivers past alarm 3 and
   * back; `episode`: a pollution episode. The last two start when the fleet goes live. */
  CITY_DEMO_SCENARIO: Scenario.default('city'),
  /** Scenario time per real time: 60 plays the two-day flood in about an hour. Readings keep true times. */
  CITY_DEMO_SPEEDUP: z.coerce.number().min(1).max(3600).default(60),
});

export interface DemoSettings {
  readonly scenario: Scenario;
  readonly speedup: number;
}

/** The demo's settings from the environment; a ConfigError lists every problem. */
export function loadDemoSettings(env: Readonly<Record<string, string | undefined>>): DemoSettings {
  const parsed = DemoEnv.safeParse({
    CITY_DEMO_SCENARIO: env.CITY_DEMO_SCENARIO || undefined,
    CITY_DEMO_SPEEDUP: env.CITY_DEMO_SPEEDUP || undefined,
  });
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  return { scenario: parsed.data.CITY_DEMO_SCENARIO, speedup: parsed.data.CITY_DEMO_SPEEDUP };
}
