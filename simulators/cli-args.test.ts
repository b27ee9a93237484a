import { describe, expect, it } from 'vitest';
import { isSimError, SIM_ERRORS } from './errors.ts';
import { parseCliArgs } from './cli-args.ts';

describe('simulator command line', () => {
  it('reads the documented options with their defaults', () => {
    const o = parseCliArgs([
      '--url',
      'mqtt://127.0.0.1:1883',
      '--credentials',
      'c.json',
      '--speedup',
      '60',
      '--scenario',
      'flood',
      '--backfill',
      '24',
    ]);
    expect(o).toMatchObject({
      url: 'mqtt://127.0.0.1:1883',
      credentials: 'c.json',
      speedup: 60,
      scenario: 'flood',
      backfill: 24,
    });
    expect(o.interval).toBe(10);
    expect(o.seed).toBe(1);
  });

  it('reports every problem at once with a stable code', () => {
    let error: unknown;
    try {
      parseCliArgs(['--url', 'http://x', '--scenario', 'storm', '--speedup', '-1']);
    } catch (err) {
      error = err;
    }
    expect(isSimError(error, 'SIM_ERR_CONFIG')).toBe(true);
    const message = error instanceof Error ? error.message : '';
    for (const option of ['url', 'credentials', 'scenario', 'speedup']) expect(message).toContain(option);
  });

  it('refuses unknown options', () => {
    expect(() => parseCliArgs(['--url', 'mqtt://h', '--credentials', 'c', '--bogus', '1'])).toThrow(
      expect.objectContaining({ code: 'SIM_ERR_CONFIG' }),
    );
  });

  it('documents every error code', () => {
    for (const [code, text] of Object.entries(SIM_ERRORS)) {
      expect(code).toMatch(/^SIM_ERR_[A-Z_]+$/);
      expect(text.length).toBeGreaterThan(10);
    }
  });
});
