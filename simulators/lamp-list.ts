// Lists of devices to onboard in bulk (the tests, the benchmark, a first try of the CSV format): Huế's LED
// streetlights (120, 150 and 180 W luminaires on its main lit streets, docs/hue-places.md) as the CSV an
// installer would hand over.
const STREETS = ['Lê Lợi', 'Trần Hưng Đạo', 'Hùng Vương', 'Lê Duẩn', 'Nguyễn Huệ', 'Hà Nội'] as const;
const WATTS = [120, 150, 180] as const;

export const LAMP_CSV_HEADER = 'id,kind,name,district,lat,lon,gateway,tags,meta.street,meta.rated_w';

/** Lamp `i` as a CSV row; lamps 0–299 of a street sit behind `gateway` when one is given. */
export function lampRow(i: number, gateway = ''): string {
  const street = STREETS[i % STREETS.length]!;
  const id = `sl-bulk-${String(i).padStart(5, '0')}`;
  const lat = (16.455 + (i % 100) * 0.0002).toFixed(5);
  const lon = (107.57 + Math.floor(i / 100) * 0.0002).toFixed(5);
  return `${id},streetlight,"Đèn ${street} ${i}",Thuận Hóa,${lat},${lon},${gateway},led;hepco,${street},${WATTS[i % 3]}`;
}

/** `count` lamps as a CSV file, from lamp `first`. */
export function lampCsv(count: number, first = 0, gateway = ''): string {
  const rows = Array.from({ length: count }, (_, k) => lampRow(first + k, gateway));
  return `${[LAMP_CSV_HEADER, ...rows].join('\n')}\n`;
}
