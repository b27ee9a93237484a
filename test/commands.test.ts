// Every command answers `--help` with its usage (exit 0) and an unknown option with what was wrong and the
// usage (exit 2), run for real as npm runs them.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Each command as a user runs it: npm's scripts through npm, the simulators through tsx. */
const COMMANDS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['npm start', ['npm', 'start', '--']],
  ['npm run demo', ['npm', 'run', 'demo', '--']],
  ['npm run rules', ['npm', 'run', 'rules', '--']],
  ['npm run dashboards', ['npm', 'run', 'dashboards', '--']],
  ['npm run bench', ['npm', 'run', 'bench', '--']],
  ['npm run bench:evaluators', ['npm', 'run', 'bench:evaluators', '--']],
  ['npm run node-red', ['npm', 'run', 'node-red', '--']],
  ['the simulators', ['node', '--import', 'tsx', 'simulators/cli.ts']],
];

function run(
  command: readonly string[],
  extra: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [file, ...args] = command;
  return new Promise((resolve) => {
    execFile(
      file === 'node' ? process.execPath : file!,
      [...args, extra],
      { cwd: ROOT, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
    );
  });
}

describe('every command', () => {
  it.concurrent.each(COMMANDS)('%s --help prints its usage and exits 0', async (_name, command) => {
    const { code, stdout } = await run(command, '--help');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^usage: /m);
  });

  it.concurrent.each(COMMANDS)('%s --bogus prints the usage and exits 2', async (_name, command) => {
    const { code, stdout, stderr } = await run(command, '--bogus');
    expect(code).toBe(2);
    expect(`${stdout}${stderr}`).toMatch(/^usage: /m);
    expect(`${stdout}${stderr}`).toContain('--bogus');
    expect(`${stdout}${stderr}`).not.toMatch(/^\s+at /m);
    // Nothing is installed to answer a mistake.
    expect(`${stdout}${stderr}`).not.toContain('==> installing');
  });
});
