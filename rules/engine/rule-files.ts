// Reading a rule folder: every `*.yaml` in it (not `*.test.yaml`, which are rule tests), sorted by name so
// the order of rules, and of problems, is the same on every machine. Files are named relative to the
// folder: problems read `flood.yaml:12:7`, and the API never shows the server's paths.
import fs from 'node:fs/promises';
import path from 'node:path';

export const RULE_FILE = /\.ya?ml$/;
export const RULE_TEST_FILE = /\.test\.ya?ml$/;

export async function readRuleFolder(dir: string): Promise<{ name: string; text: string }[]> {
  const names = (await fs.readdir(dir)).filter((n) => RULE_FILE.test(n) && !RULE_TEST_FILE.test(n)).sort();
  return Promise.all(
    names.map(async (n) => ({ name: n, text: await fs.readFile(path.join(dir, n), 'utf8') })),
  );
}
