import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config.ts';
import { DemoEnv, loadDemoSettings } from './demo-settings.ts';

describe('the demo settings', () => {
  it('default to everyday life at 60 times speed, as the README says', () => {
    expect(loadDemoSettings({})).toEqual({ scenario: 'city', speedup: 60 });
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const name of Object.keys(DemoEnv.shape)) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${name}\``));
      expect(row, name).toBeDefined();
      const documented = row!.split('|')[2]!.trim().replaceAll('`', '');
      expect(String(DemoEnv.shape[name as keyof typeof DemoEnv.shape].parse(undefined)), name).toBe(
        documented,
      );
    }
  });

  it('read a scenario and a speed-up', () => {
    expect(loadDemoSettings({ CITY_DEMO_SCENARIO: 'flood', CITY_DEMO_SPEEDUP: '600' })).toEqual({
      scenario: 'flood',
      speedup: 600,
    });
  });

  it('refuse an unknown scenario and a speed-up out of range, naming both at once', () => {
    let error: unknown;
    try {
      loadDemoSettings({ CITY_DEMO_SCENARIO: 'storm', CITY_DEMO_SPEEDUP: '0' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/CITY_DEMO_SCENARIO: .*city.*normal.*flood.*episode/);
    expect(problems).toMatch(/CITY_DEMO_SPEEDUP: .*1/);
  });
});
