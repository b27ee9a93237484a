// Injection through a real influxd: for random strings, a query built by influxql.ts finds exactly the
// value it was given, never more (a quote that escaped its literal would widen or break the query).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type FreshDatabase } from '../test/kits/influx.ts';
import { createDatabase, dropDatabase, ident, regexAnyOf, showDatabases, str } from './influxql.ts';
import { encodeLine, encodeTags } from './line-protocol.ts';

/** Characters that break naive quoting, and any other code point but NUL and CR (InfluxQL cannot carry them). */
const char = fc.oneof(
  fc.constantFrom(...`'"\\\n\t/|().*,= ;ế`, '😀'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => c !== '\0' && c !== '\r'),
);
const anyString = fc.string({ unit: char, minLength: 1, maxLength: 16 });
/** Tag values the line encoder accepts: no control characters, no backslash. */
// eslint-disable-next-line no-control-regex -- the characters the encoder refuses
const tagValue = anyString.filter((s) => !/[\u0000-\u001f\u007f\\]/.test(s));

/** A string field written raw: inside double quotes line protocol needs only `"` and `\` escaped. */
const stringField = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`;

describe('InfluxQL escaping through influxd', () => {
  let fresh: FreshDatabase;
  let run = 0;
  beforeAll(async () => {
    fresh = await freshDatabase('influxql');
  });
  afterAll(async () => {
    await fresh.drop();
  });

  it('str() and regexAnyOf() select exactly the tag value they were given', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(tagValue, { minLength: 2, maxLength: 8 }), async (values) => {
        const measurement = `tags_${run++}`;
        const lines = values.map((v, i) => encodeLine(measurement, encodeTags({ device: v }), { i }, i));
        await fresh.client.write(lines.join('\n'));
        for (const value of values) {
          const byEquality = `SELECT "i", "device" FROM ${ident(measurement)} WHERE "device" = ${str(value)}`;
          const byRegex = `SELECT "i", "device" FROM ${ident(measurement)} WHERE "device" =~ ${regexAnyOf([value])}`;
          const results = await fresh.client.query(`${byEquality}; ${byRegex}`);
          const eq = results[0]?.[0];
          const re = results[1]?.[0];
          expect(eq?.values).toEqual([[values.indexOf(value), values.indexOf(value), value]]);
          expect(re?.values).toEqual(eq?.values);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('str() matches string fields holding quotes, backslashes and newlines', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(anyString, { minLength: 2, maxLength: 8 }), async (values) => {
        const measurement = `strings_${run++}`;
        const lines = values.map((v, i) => `${measurement} s=${stringField(v)},i=${i} ${i}`);
        await fresh.client.write(lines.join('\n'));
        for (const [i, value] of values.entries()) {
          const results = await fresh.client.query(
            `SELECT "s", "i" FROM ${ident(measurement)} WHERE "s" = ${str(value)}`,
          );
          const series = results[0]?.[0];
          expect(series?.values).toEqual([[i, value, i]]);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('ident() names measurements and fields the encoder wrote', async () => {
    await fc.assert(
      fc.asyncProperty(
        tagValue.filter((s) => !s.startsWith('#')),
        tagValue,
        async (measurement, field) => {
          const name = `${measurement}_${run++}`;
          await fresh.client.write(encodeLine(name, '', { [field]: 1.5 }, 7));
          const results = await fresh.client.query(`SELECT ${ident(field)} FROM ${ident(name)}`);
          const series = results[0]?.[0];
          expect(series).toMatchObject({ name, columns: ['time', field], values: [[7, 1.5]] });
        },
      ),
      { numRuns: 25 },
    );
  });

  it('ident() creates and drops a database with an awkward name', async () => {
    for (const suffix of [`we"ird 'db'`, 'Huế 😀', 'a;b--']) {
      const db = `${fresh.db}_${suffix}`;
      await fresh.client.query(createDatabase(db));
      expect((await fresh.client.query(showDatabases()))[0]?.[0]?.values).toContainEqual([db]);
      await fresh.client.query(dropDatabase(db));
      expect((await fresh.client.query(showDatabases()))[0]?.[0]?.values).not.toContainEqual([db]);
    }
  });

  it('a database name InfluxDB forbids is refused by the server, not misread', async () => {
    // 1.x database names must be printable and hold no slash or backslash (meta.ValidName).
    for (const suffix of ['back\\slash', 'new\nline']) {
      await expect(fresh.client.query(createDatabase(`${fresh.db}_${suffix}`))).rejects.toMatchObject({
        code: 'INFLUX_ERR_QUERY',
        message: expect.stringMatching(/invalid name/) as unknown,
      });
    }
  });
});
