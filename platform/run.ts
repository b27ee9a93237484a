// Runs the platform until SIGINT or SIGTERM, then stops it gracefully: listeners first, then the spool is
// written out to InfluxDB, then everything else closes. A second signal stops at once.
import type { Logger } from 'pino';
import type { Platform } from './platform.ts';

export function stopOnSignals(platform: Platform, log: Logger, also: Array<() => Promise<void>> = []): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn(
        { signal },
        'second signal: exiting now; unwritten readings stay in the spool for the next start',
      );
      process.exit(130);
    }
    stopping = true;
    log.info({ signal }, 'stopping: writing out the spool, then closing');
    const run = async () => {
      for (const close of also) await close();
      await platform.close();
    };
    run().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
