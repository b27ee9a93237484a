// The agencies: for each, its alerts open now (and how many are critical), and over the last 30 days its
// mean time to acknowledge and to resolve, set against its acknowledge targets. A mean past the target
// for warnings is marked: the agency is slower than it promised.
import { useEffect, useState } from 'preact/hooks';
import { api, type Agency, type Alert, type ResponseTimes } from './api.ts';
import { fill, type Lang, type Strings } from './i18n.ts';

const DAYS = 30;

function minutes(ms: number | null, t: Strings): string {
  return ms === null ? '–' : fill(t.minutes, { n: Math.round(ms / 60_000) });
}

export function AgenciesPage({ t, lang }: { t: Strings; lang: Lang }) {
  const [agencies, setAgencies] = useState<readonly Agency[]>([]);
  const [open, setOpen] = useState<readonly Alert[]>([]);
  const [times, setTimes] = useState<ResponseTimes['owners']>([]);

  useEffect(() => {
    api.agencies().then(
      ({ agencies: list }) => setAgencies(list),
      () => setAgencies([]),
    );
    api.openAlerts().then(
      ({ alerts }) => setOpen(alerts),
      () => setOpen([]),
    );
    api.responseTimes(DAYS).then(
      ({ owners }) => setTimes(owners),
      () => setTimes([]),
    );
  }, []);

  return (
    <section class="agencies-page" aria-labelledby="agencies-title">
      <h2 id="agencies-title">{t.agencies}</h2>
      <table class="agencies" data-testid="agencies">
        <caption>
          {t.meanAck}, {t.meanResolve}: {t.last30}
        </caption>
        <thead>
          <tr>
            <th scope="col">{t.agency}</th>
            <th scope="col">{t.open}</th>
            <th scope="col">{t.severity.critical}</th>
            <th scope="col">{t.meanAck}</th>
            <th scope="col">{t.meanResolve}</th>
            <th scope="col">{t.targets}</th>
          </tr>
        </thead>
        <tbody>
          {agencies.map((a) => {
            const mine = open.filter((x) => x.owner === a.id);
            const time = times.find((x) => x.owner === a.id);
            const target = a.ack_target_minutes;
            const late = time?.meanAckMs != null && time.meanAckMs > target.warning * 60_000;
            return (
              <tr key={a.id} data-agency={a.id}>
                <th scope="row">
                  {a.name[lang]} <span class="muted">({a.id})</span>
                </th>
                <td>{mine.length}</td>
                <td>{mine.filter((x) => x.severity === 'critical').length}</td>
                <td class={late ? 'late' : ''}>
                  {minutes(time?.meanAckMs ?? null, t)}
                  {late ? ` (${t.overTarget})` : ''}
                </td>
                <td>{minutes(time?.meanResolveMs ?? null, t)}</td>
                <td>
                  {target.critical} / {target.warning} / {target.info}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
