// `npm run dashboards`: writes the dashboards' JSON for Grafana from their source in dashboards/src.
// `npm run dashboards -- --check`: fails when the committed JSON is not what the source makes.
// `--timezone <IANA name>` makes them for another city's days (daily totals run from its midnight). No fleet
// file goes in: what the panels group by comes from the tags the readings carry from the registry.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readCommandLine } from '../cli/index.ts';
import { DASHBOARD_DIR, DEFAULT_TIMEZONE, renderDashboards } from './index.ts';

const USAGE = `usage: npm run dashboards [-- options]
  writes the dashboards' JSON for Grafana (${DASHBOARD_DIR.split('/').slice(-3).join('/')}) from dashboards/src
  --check              write nothing; fail when the committed JSON is not what the source makes
  --timezone <name>    the IANA time zone daily totals start their days in (default ${DEFAULT_TIMEZONE})
  --help               this text`;

async function main(): Promise<number> {
  const { values } = readCommandLine({
    usage: USAGE,
    options: {
      check: { type: 'boolean', default: false },
      timezone: { type: 'string', default: DEFAULT_TIMEZONE },
    },
  });
  const rendered = renderDashboards(values.timezone);
  await mkdir(DASHBOARD_DIR, { recursive: true });
  const present = (await readdir(DASHBOARD_DIR)).filter((f) => f.endsWith('.json'));
  const stale = present.filter((f) => !rendered.some((r) => r.file === f));
  const where = path.relative(process.cwd(), DASHBOARD_DIR) || DASHBOARD_DIR;

  if (values.check) {
    const differ: string[] = [];
    for (const r of rendered) {
      const committed = await readFile(path.join(DASHBOARD_DIR, r.file), 'utf8').catch(() => null);
      if (committed !== r.text) differ.push(r.file);
    }
    if (differ.length === 0 && stale.length === 0) {
      console.log(`${rendered.length} dashboards in ${where} are what dashboards/src makes`);
      return 0;
    }
    for (const f of differ) console.error(`${where}/${f}: differs from what dashboards/src makes`);
    for (const f of stale) console.error(`${where}/${f}: no dashboard in dashboards/src makes it`);
    console.error('run `npm run dashboards` and commit the result');
    return 1;
  }
  for (const r of rendered) await writeFile(path.join(DASHBOARD_DIR, r.file), r.text);
  for (const f of stale) await rm(path.join(DASHBOARD_DIR, f));
  console.log(
    `wrote ${rendered.length} dashboards to ${where}${stale.length > 0 ? `, removed ${stale.join(', ')}` : ''}`,
  );
  return 0;
}

process.exitCode = await main();
