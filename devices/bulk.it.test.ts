// Bulk onboarding's checks, over a real registry (SQLite in memory): a CSV file read into devices with
// numbers, lists and booleans where the schemas want them; every bad row reported with its line and
// field; duplicates in the file, ids taken, unknown gateways and changed devices refused; the same
// device listed again left unchanged.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lampCsv, lampRow, LAMP_CSV_HEADER } from '../test/kits/onboarding.ts';
import { describeProblem, planBulk, rowsFromCsv, rowsFromList } from './bulk.ts';
import { openRegistry, type Registry } from './registry.ts';

let registry: Registry;
beforeEach(async () => {
  registry = await openRegistry({ file: ':memory:' });
});
afterEach(async () => {
  await registry.close();
});

describe('reading CSV', () => {
  it('reads each row as a device: numbers, ; lists and quoted text as the schemas want them', () => {
    const csv = [
      'id,kind,name,district,lat,lon,tags,meta.type,meta.station,meta.river,meta.alarm_levels_m',
      'rg-phu-oc,flood,"Trạm Phú Ốc, sông Bồ",Hương Trà,16.5328,107.4772,river;bo,river,Phú Ốc,Bồ,1.5;3;4.5',
    ].join('\r\n');
    const { rows, problems } = rowsFromCsv(`\uFEFF${csv}`);
    expect(problems).toEqual([]);
    expect(rows).toEqual([
      {
        row: 1,
        line: 2,
        input: {
          id: 'rg-phu-oc',
          kind: 'flood',
          name: 'Trạm Phú Ốc, sông Bồ',
          district: 'Hương Trà',
          location: { lat: 16.5328, lon: 107.4772 },
          tags: ['river', 'bo'],
          meta: { type: 'river', station: 'Phú Ốc', river: 'Bồ', alarm_levels_m: [1.5, 3, 4.5] },
        },
      },
    ]);
    expect(planBulk(rows, registry).create).toHaveLength(1);
  });

  it('refuses a header without a required column, or with one it does not know', () => {
    const { problems } = rowsFromCsv('id,kind,name,lat,lon,colour\nx,flood,x,1,2,red\n');
    expect(problems.map((p) => [p.line, p.field, p.message])).toEqual([
      [1, 'header', 'no column district'],
      [1, 'header', expect.stringContaining('unknown column "colour"')],
    ]);
  });

  it('says which line a row is on, after a quoted cell that spans lines', () => {
    const csv = `${LAMP_CSV_HEADER}\n${lampRow(0).replace('"Đèn Lê Lợi 0"', '"Đèn Lê Lợi\n0"')}\n${lampRow(1).replace(',120', ',abc').replace(',150', ',abc')}\n`;
    const { rows } = rowsFromCsv(csv);
    expect(rows.map((r) => [r.row, r.line])).toEqual([
      [1, 2],
      [2, 4],
    ]);
    const { problems } = planBulk(rows, registry);
    expect(problems.map(describeProblem)).toEqual([
      'line 4 (sl-bulk-00001), meta.rated_w: Invalid input: expected number, received string [REGISTRY_ERR_INVALID]',
    ]);
  });
});

describe('checking a list', () => {
  it('reports every bad row with its field, and plans nothing to create while any is bad', async () => {
    await registry.provisionGateway({
      id: 'gw-le-loi',
      name: 'Gateway Lê Lợi',
      district: 'Thuận Hóa',
      location: { lat: 16.46225, lon: 107.5835 },
    });
    const lines = lampCsv(6).trimEnd().split('\n');
    lines[2] = lines[2]!.replace('16.45520', '95'); // lamp 1: latitude out of range
    lines[3] = lines[3]!.replace(',,led', ',gw-nowhere,led'); // lamp 2: unknown gateway
    lines[4] = lines[4]!.replace('sl-bulk-00003', 'sl-bulk-00000'); // lamp 3: the id of lamp 0
    lines[5] = lines[5]!.replace(',,led', ',gw-le-loi,led'); // lamp 4: fine, behind the gateway
    lines[6] = lines[6]!.replace('streetlight', 'lamp'); // lamp 5: no such kind
    const { rows } = rowsFromCsv(lines.join('\n'));
    const { problems, create } = planBulk(rows, registry);
    expect(problems.map((p) => [p.line, p.id, p.field, p.code])).toEqual([
      [3, 'sl-bulk-00001', 'location.lat', 'REGISTRY_ERR_INVALID'],
      [4, 'sl-bulk-00002', 'gateway', 'REGISTRY_ERR_GATEWAY'],
      [5, 'sl-bulk-00000', 'id', 'REGISTRY_ERR_DUPLICATE'],
      [7, 'sl-bulk-00005', 'kind', 'REGISTRY_ERR_INVALID'],
    ]);
    expect(problems[2]!.message).toBe('sl-bulk-00000 is also row 1');
    // What is fine is still checked through (the file is fixed once), but the caller creates nothing.
    expect(create.map((d) => d.id)).toEqual(['sl-bulk-00000', 'sl-bulk-00002', 'sl-bulk-00004']);
  });

  it('leaves a device listed again as it is, and refuses one listed with other content or decommissioned', async () => {
    const { rows } = rowsFromCsv(lampCsv(3));
    await registry.provisionDevices(planBulk(rows, registry).create);
    // The same file again: nothing to do.
    const again = planBulk(rowsFromCsv(lampCsv(3)).rows, registry);
    expect([again.problems, again.create.length, again.unchanged.length]).toEqual([[], 0, 3]);
    // Lamp 1 renamed in the file, lamp 2 decommissioned meanwhile.
    await registry.decommissionDevice('sl-bulk-00002');
    const changed = rowsFromCsv(lampCsv(3).replace('Đèn Trần Hưng Đạo 1', 'Đèn THĐ 1')).rows;
    expect(planBulk(changed, registry).problems.map((p) => [p.id, p.code, p.message])).toEqual([
      ['sl-bulk-00001', 'REGISTRY_ERR_DUPLICATE', expect.stringContaining('exists with other content')],
      ['sl-bulk-00002', 'REGISTRY_ERR_DECOMMISSIONED', expect.stringContaining('decommissioned')],
    ]);
  });

  it('refuses an id that is a gateway or a service account, and a JSON row that is not an object', async () => {
    await registry.provisionServiceAccount({ id: 'node-red' });
    const rows = rowsFromList([
      { ...(rowsFromCsv(lampCsv(1)).rows[0]!.input as object), id: 'node-red' },
      'sl-bulk-00001',
    ]);
    expect(planBulk(rows, registry).problems.map((p) => [p.row, p.field, p.code])).toEqual([
      [1, 'id', 'REGISTRY_ERR_DUPLICATE'],
      [2, 'row', 'REGISTRY_ERR_INVALID'],
    ]);
  });
});

describe('creating a list', () => {
  it('creates all or none: an id taken since the list was checked creates no device', async () => {
    const plan = planBulk(rowsFromCsv(lampCsv(3)).rows, registry);
    await registry.provisionDevice({ ...plan.create[2]! });
    await expect(registry.provisionDevices(plan.create)).rejects.toMatchObject({
      code: 'REGISTRY_ERR_DUPLICATE',
    });
    expect(registry.listDevices().map((d) => d.id)).toEqual(['sl-bulk-00002']);
  });
});
