// Running `npm run bench` with a token load and reading its JSON, for the checks that it still works
// (pipeline.it.test.ts in `npm test`, baselines.bench.test.ts in `npm run test:bench`).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { z } from 'zod';
import { ProbeResult } from './ipc.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const Coverage = z.object({ selected: z.array(z.string()), evaluated: z.array(z.string()) });
export const Count = z.object({ count: z.number() });

export const Output = z.object({
  rows: z.array(
    z.object({
      system: z.string(),
      sent: z.number(),
      acked: z.number().optional(),
      stored: z.number(),
      inDb: z.number(),
      cpuUsPerReading: z.number().optional(),
      timing: z
        .object({ engineUsPerReading: z.number(), gcUsPerReading: z.number(), transitions: Count })
        .optional(),
      rules: z.object({ loaded: z.number(), station: Coverage, gauge: Coverage.optional() }).optional(),
      alerts: ProbeResult.optional(),
    }),
  ),
  rules: z
    .object({
      storedPerSecond: z.object({ without: z.number(), with: z.number(), costPct: z.number() }),
      cpuUsPerReading: z.object({ costPct: z.number() }).optional(),
      alerts: z.object({ expected: z.number(), received: z.number() }).optional(),
    })
    .optional(),
});
export type Output = z.infer<typeof Output>;

const Memory = z.object({ rssKb: z.number(), heapUsedKb: z.number() });
export const Connections = z.object({
  result: z.object({
    storm: z.object({ devices: z.number(), allConnectedMs: z.number() }),
    memory: z.object({ before: Memory, after: Memory }),
    flood: z.object({ codes: z.record(z.string(), z.number()) }),
    puback: z.object({ baseline: Count, storm: Count, flood: Count }),
  }),
});

/** `npm run bench` with a token load and `extra`, its JSON parsed. */
export async function bench(...extra: string[]): Promise<Output> {
  const args = [
    'tsx',
    'bench/pipeline.ts',
    '--devices',
    '4',
    '--rate',
    '400',
    '--duration',
    '2',
    '--warmup',
    '1',
  ];
  args.push('--pause', '0', '--json', ...extra);
  const { stdout } = await promisify(execFile)('npx', args, { cwd: ROOT, timeout: 150_000 });
  return Output.parse(JSON.parse(stdout.trim().split('\n').at(-1) ?? ''));
}
