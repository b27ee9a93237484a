// The routing in force: the routing file (CITY_ROUTING_FILE) checked against the registry's agencies,
// read again when the file changes or the agencies do. A file that does not check out is refused whole
// and the routing in force stays, as with rule files; at start there is none to keep, so the start fails
// with every problem listed.
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { withinWorkingHours, type AgencyRecord } from '../devices/index.ts';
import { planAlert, type AlertFacts, type PlannedRoute } from './plan.ts';
import { loadRoutingFile, type Routing, type RoutingProblem } from './routing.ts';

export interface RoutingServiceOptions {
  /** The routing file. */
  readonly file: string;
  /** Read it again when it changes. */
  readonly watch: boolean;
  /** The registry's agencies, read at each load and each plan. */
  readonly agencies: () => readonly AgencyRecord[];
  readonly log: Logger;
  readonly clock: () => number;
  /** The city's time zone: agencies' working hours are read in it. */
  readonly timeZone: string;
}

export interface RoutingStatus {
  readonly file: string;
  readonly loadedAt: string;
  readonly routes: number;
  /** The problems of the last refused reload; empty when the file in force is the file on disk. */
  readonly problems: readonly RoutingProblem[];
}

export interface RoutingService {
  routing(): Routing;
  status(): RoutingStatus;
  /** Reads the file again; resolves with its problems (none when it is in force). */
  reload(): Promise<readonly RoutingProblem[]>;
  /**
   * The routes an alert takes, its receivers, grouping, timing and escalation chain; whether its owner is
   * within working hours is read now unless `alert.inHours` says.
   */
  plan(alert: AlertFacts): PlannedRoute[];
  close(): void;
}

const byId = (agencies: readonly AgencyRecord[]) => new Map(agencies.map((a) => [a.id, a]));

export function formatRoutingProblems(problems: readonly RoutingProblem[]): string {
  return problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.code} ${p.message}`).join('\n');
}

export async function startRouting(options: RoutingServiceOptions): Promise<RoutingService> {
  const { file, log, clock } = options;
  const first = await loadRoutingFile(file, byId(options.agencies()));
  if (!first.ok) {
    throw new Error(
      `the routing file was refused, fix it and start again:\n${formatRoutingProblems(first.problems)}`,
    );
  }
  let routing = first.routing;
  let status: RoutingStatus = {
    file,
    loadedAt: new Date(clock()).toISOString(),
    routes: routing.routes.length,
    problems: [],
  };
  let closed = false;

  // Reloads run one after the other: a slow read must not put an older file in force last.
  let reloading: Promise<unknown> = Promise.resolve();
  function reload(): Promise<readonly RoutingProblem[]> {
    const next = reloading.then(reloadNow, reloadNow);
    reloading = next;
    return next;
  }

  async function reloadNow(): Promise<readonly RoutingProblem[]> {
    const loaded = await loadRoutingFile(file, byId(options.agencies()));
    if (closed) return [];
    if (!loaded.ok) {
      status = { ...status, problems: loaded.problems };
      log.error({ problems: loaded.problems }, 'routing file refused; the routing in force stays');
      return loaded.problems;
    }
    routing = loaded.routing;
    status = { file, loadedAt: new Date(clock()).toISOString(), routes: routing.routes.length, problems: [] };
    log.info({ routes: routing.routes.length }, 'routing reloaded');
    return [];
  }

  let watcher: FSWatcher | undefined;
  let debounce: NodeJS.Timeout | undefined;
  if (options.watch) {
    // Editors write a file in several steps (truncate, write, rename): watch its folder, wait for it to settle.
    const name = path.basename(file);
    watcher = watch(path.dirname(file), (_event, changed) => {
      if (changed !== null && changed !== name) return;
      clearTimeout(debounce);
      debounce = setTimeout(() => {
        reload().catch((err: unknown) => log.error({ err }, 'routing file not read'));
      }, 250);
    });
    watcher.on('error', (err) => log.error({ err }, 'routing file watch failed; reload by restarting'));
  }

  return {
    routing: () => routing,
    status: () => status,
    reload,
    plan(alert) {
      const agencies = byId(options.agencies());
      const hours = agencies.get(alert.agency)?.working_hours;
      const inHours =
        alert.inHours ?? (hours === undefined || withinWorkingHours(hours, clock(), options.timeZone));
      return planAlert(routing, agencies, { ...alert, inHours });
    },
    close() {
      closed = true;
      clearTimeout(debounce);
      watcher?.close();
    },
  };
}
