// Every rule test file under rules/ (`*.test.yaml`, rules/testing/schema.ts), each of its tests run as a
// vitest test. Pure: the files are read, no server is started. A file that does not load fails with its
// problems, a test that does not see what it expects with the diff (rules/testing/compare.ts).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findRuleTestFiles, loadRuleTestFile } from './testing/files.ts';
import { runRuleTest } from './testing/runner.ts';

const RULES_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(RULES_DIR);
const files = await findRuleTestFiles(RULES_DIR);

it('finds the rule test files', () => {
  expect(files.map((f) => path.relative(RULES_DIR, f))).toEqual(
    expect.arrayContaining([
      'hue/flood.test.yaml',
      'hue/air.test.yaml',
      'hue/lighting.test.yaml',
      'hue/silence.test.yaml',
    ]),
  );
});

for (const file of files) {
  const loaded = await loadRuleTestFile(path.relative(ROOT, file));
  describe(path.relative(ROOT, file), () => {
    if (!loaded.ok) {
      it('loads', () => {
        const lines = loaded.problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.code} ${p.message}`);
        expect.fail(`the test file does not load:\n${lines.join('\n')}`);
      });
      return;
    }
    for (const test of loaded.tests) {
      it(test.name, () => {
        const result = runRuleTest(test);
        if (result.status === 'failed')
          expect.fail(`${result.file}:${result.line} ${result.name}\n${result.report}`);
        expect(result.status).toBe('passed');
      });
    }
  });
}
