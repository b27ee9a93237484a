// One device: its latest values with their units, a chart of a field over the last hours or days, its
// registry record, its open and past alerts, and, for engineers, the messages of it the platform refused
// with their reason codes: where a device maker sees why. The chart (uPlot) comes with this page, loaded
// when it is first opened.
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type Alert, type DeadLetter, type DeviceRecord, type Latest, type User } from './api.ts';
import { Chart } from './chart.tsx';
import { CommandsPanel } from './commands-panel.tsx';
import { OPERATOR_ROLES } from './actions.tsx';
import { fill, formatNumber, formatTime, type Lang, type Strings } from './i18n.ts';

const RANGES = [
  { hours: 6, every: '5m' },
  { hours: 24, every: '15m' },
  { hours: 168, every: '1h' },
] as const;
const ENGINEERS = new Set(['engineer', 'admin']);

export function DevicePage({ id, t, lang, user }: { id: string; t: Strings; lang: Lang; user: User }) {
  const [device, setDevice] = useState<DeviceRecord | null | undefined>(undefined);
  const [latest, setLatest] = useState<Latest['fields']>({});
  const [alerts, setAlerts] = useState<readonly Alert[]>([]);
  const [letters, setLetters] = useState<readonly DeadLetter[] | undefined>(undefined);
  const [range, setRange] = useState(0);
  const [field, setField] = useState<string | undefined>(undefined);

  useEffect(() => {
    api.device(id).then(setDevice, () => setDevice(null));
    api.latest(id).then(
      ({ fields }) => {
        setLatest(fields);
        setField((f) => f ?? Object.keys(fields).find((k) => typeof fields[k]?.value === 'number'));
      },
      () => setLatest({}),
    );
    api.alertsOf(id).then(
      ({ alerts: list }) => setAlerts(list),
      () => setAlerts([]),
    );
    if (ENGINEERS.has(user.role))
      api.deadLetters(id).then(
        ({ deadLetters }) => setLetters(deadLetters),
        () => setLetters([]),
      );
  }, [id]);

  if (device === undefined) return null;
  if (device === null)
    return (
      <section>
        <a href="#/map">{t.back}</a>
        <p class="problem">{t.notFound}</p>
      </section>
    );
  const chosen = RANGES[range] ?? RANGES[0];
  return (
    <section class="device-page" aria-labelledby="device-title">
      <a href="#/map">← {t.map}</a>
      <h2 id="device-title">{device.name}</h2>
      <p class="facts-line">
        {device.id} · {device.kind} · {device.district}
      </p>
      {device.maintenance !== undefined && Date.parse(device.maintenance.until) > Date.now() ? (
        <p class="announce">
          {fill(t.maintenance, {
            t: formatTime(device.maintenance.until, lang),
            r: device.maintenance.reason,
          })}
        </p>
      ) : null}

      <h3>{t.latest}</h3>
      {Object.keys(latest).length === 0 ? <p class="empty">{t.noData}</p> : null}
      <dl class="facts" data-testid="latest">
        {Object.entries(latest).map(([name, f]) => (
          <Fragment key={name}>
            <dt>{name}</dt>
            <dd>
              {typeof f.value === 'number' ? formatNumber(f.value, lang) : String(f.value)}
              {f.unit === '' ? '' : ` ${f.unit}`} <span class="muted">({formatTime(f.time, lang)})</span>
            </dd>
          </Fragment>
        ))}
      </dl>

      {field !== undefined ? (
        <>
          <h3>{t.chart}</h3>
          <div class="filters">
            <label>
              {t.value}
              <select value={field} onChange={(e) => setField((e.target as HTMLSelectElement).value)}>
                {Object.keys(latest).map((k) => (
                  <option key={k} value={k}>
                    {k}
                  </option>
                ))}
              </select>
            </label>
            {RANGES.map((r, i) => (
              <button
                key={r.hours}
                type="button"
                aria-pressed={i === range}
                onClick={() => setRange(i)}
                class={i === range ? 'chosen' : ''}
              >
                {r.hours < 48 ? fill(t.hours, { n: r.hours }) : fill(t.days, { n: r.hours / 24 })}
              </button>
            ))}
          </div>
          <Chart
            id={id}
            field={field}
            from={`now-${chosen.hours}h`}
            every={chosen.every}
            label={`${t.chart}: ${field}`}
          />
        </>
      ) : null}

      <CommandsPanel
        id={device.id}
        kind={device.kind}
        canSend={OPERATOR_ROLES.has(user.role) && device.status === 'active'}
        t={t}
        lang={lang}
      />

      <h3>{t.alertsOfDevice}</h3>
      <ul class="history" data-testid="device-alerts">
        {alerts.map((a) => (
          <li key={a.id}>
            <a href={`#/alerts/${a.id}`}>{a.title}</a> — {t.severity[a.severity]}, {t.state[a.state]},{' '}
            {formatTime(a.raisedAt, lang)}
          </li>
        ))}
      </ul>

      <h3>{t.registry}</h3>
      <dl class="facts">
        <dt>{t.district}</dt>
        <dd>{device.district}</dd>
        <dt>lat, lon</dt>
        <dd>
          {device.location.lat}, {device.location.lon}
        </dd>
        {device.gateway !== undefined ? (
          <>
            <dt>gateway</dt>
            <dd>{device.gateway}</dd>
          </>
        ) : null}
        <dt>tags</dt>
        <dd>{device.tags.join(', ')}</dd>
        {Object.entries(device.meta).map(([k, v]) => (
          <Fragment key={k}>
            <dt>{k}</dt>
            <dd>{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
          </Fragment>
        ))}
      </dl>

      {letters !== undefined ? (
        <>
          <h3>{t.deadLetters}</h3>
          {letters.length === 0 ? <p class="empty">{t.noDeadLetters}</p> : null}
          <ul class="history" data-testid="dead-letters">
            {letters.map((l) => (
              <li key={l.id}>
                <code>{l.code}</code> {formatTime(l.at, lang)}: {l.description} — {l.detail}
                <pre class="payload">{l.payloadPreview}</pre>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
