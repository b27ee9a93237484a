// A V8 CPU profile of exactly the measured window (first publish to stop), taken from inside the process
// through the inspector, so start-up (module loading, provisioning, SQLite inserts) stays out
// of it. The file is the same format `node --cpu-prof` writes; bench/profile.ts summarizes it.
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/** Starts sampling every `intervalUs`; the returned function stops and writes the profile to `file`. */
export async function startCpuProfile(file: string, intervalUs = 1000): Promise<() => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    await writeFile(file, JSON.stringify(profile));
  };
}
