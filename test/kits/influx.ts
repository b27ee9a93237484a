// A database of its own for each integration test file, in the influxd of test/kits/global-influxd.ts.
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createInfluxClient, dropDatabase, type InfluxClient } from '../../influx/index.ts';

export interface FreshDatabase {
  readonly url: string;
  readonly db: string;
  readonly client: InfluxClient;
  /** Drops the database and closes the client; safe to call twice. */
  drop(): Promise<void>;
}

/** Creates `<prefix>_<random>` (prefix reduced to letters, digits and `_`) and a client for it. */
export async function freshDatabase(prefix: string): Promise<FreshDatabase> {
  const url = inject('influxUrl');
  const db = `${prefix.replace(/[^A-Za-z0-9_]/g, '_')}_${randomBytes(6).toString('hex')}`;
  const client = createInfluxClient({ url, db });
  const created = await client.ensureDatabase();
  if (created.status !== 'created') throw new Error(`database ${db} was not created: ${created.status}`);
  let dropped: Promise<void> | undefined;
  const drop = (): Promise<void> =>
    (dropped ??= (async () => {
      await client.query(dropDatabase(db));
      await client.close();
    })());
  return { url, db, client, drop };
}
