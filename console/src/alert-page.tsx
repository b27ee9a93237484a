// One alert: what it says, its value against its limit, a chart of the device's readings around it with
// the limit drawn, its history (raised, escalated, referred, acknowledged and resolved, by whom, with
// notes) and the notifications sent of it, to which receivers and how each went. Kept current by the
// alert stream.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { AlertActions, AlertFacts, OPERATOR_ROLES } from './actions.tsx';
import { alertStream, api, type Alert, type AlertEvent, type Delivery, type User } from './api.ts';
import type { Chart as ChartComponent } from './chart.tsx';
import { fill, formatTime, type Lang, type Strings } from './i18n.ts';

const HOUR = 3_600_000;
/** Points drawn across the chart, whatever its span: the bucket width follows from it. */
const POINTS = 120;

/**
 * From two hours before the alert was raised to now while it is open, or to two hours after it was
 * resolved; means per bucket so that a long alert draws as many points as a short one.
 */
function around(alert: Alert, events: readonly AlertEvent[], now: number) {
  const raised = Date.parse(alert.raisedAt);
  const resolved = events.find((e) => e.type === 'resolved');
  const from = raised - 2 * HOUR;
  const to = resolved === undefined ? now : Math.min(now, Date.parse(resolved.at) + 2 * HOUR);
  const minutes = Math.max(1, Math.round((to - from) / POINTS / 60_000));
  return { from: String(from), to: String(to), every: `${minutes}m`, mark: raised };
}

/** The chart of the field the alert's rule compares (none for an absence or an index): loaded with it. */
function AlertChart({ alert, events, t }: { alert: Alert; events: readonly AlertEvent[]; t: Strings }) {
  const [field, setField] = useState<string | undefined>(undefined);
  const [Chart, setChart] = useState<typeof ChartComponent | null>(null);
  useEffect(() => {
    api.rules().then(
      ({ rules }) => {
        const found = rules.find((r) => r.id === alert.rule)?.field;
        setField(found);
        if (found !== undefined) void import('./chart.tsx').then((m) => setChart(() => m.Chart));
      },
      () => setField(undefined),
    );
  }, [alert.rule]);
  const resolved = events.some((e) => e.type === 'resolved');
  const range = useMemo(() => around(alert, events, Date.now()), [alert.id, resolved]);
  if (field === undefined || Chart === null) return null;
  return (
    <>
      <h3>{fill(t.around, { field })}</h3>
      <Chart
        id={alert.device}
        field={field}
        {...range}
        limit={alert.threshold}
        limitLabel={t.limit}
        label={fill(t.around, { field })}
      />
    </>
  );
}

export function AlertPage({ id, t, lang, user }: { id: number; t: Strings; lang: Lang; user: User }) {
  const [alert, setAlert] = useState<Alert | null | undefined>(undefined);
  const [events, setEvents] = useState<readonly AlertEvent[]>([]);
  const [deliveries, setDeliveries] = useState<readonly Delivery[]>([]);
  const [problem, setProblem] = useState<string | null>(null);

  const load = () => {
    api.alert(id).then(
      (found) => {
        setAlert(found.alert);
        setEvents(found.events);
      },
      () => setAlert(null),
    );
    api.deliveries(id).then(
      ({ deliveries: list }) => setDeliveries(list),
      () => setDeliveries([]),
    );
  };

  useEffect(() => {
    load();
    return alertStream(
      (changed) => {
        if (changed.id === id) load();
      },
      () => undefined,
    );
  }, [id]);

  if (alert === undefined) return null;
  if (alert === null)
    return (
      <section>
        <a href="#/">{t.back}</a>
        <p class="problem">{t.notFound}</p>
      </section>
    );
  return (
    <section class="alert-page" aria-labelledby="alert-title">
      <a href="#/">{t.back}</a>
      <div class={`alert ${alert.severity} ${alert.state}`}>
        <div class="head">
          <span class={`badge ${alert.severity}`}>{t.severity[alert.severity]}</span>
          <h2 id="alert-title" class="title">
            {alert.title}
          </h2>
          <span class="state">{t.state[alert.state]}</span>
        </div>
        <p class="message">{alert.message}</p>
        <AlertFacts alert={alert} t={t} lang={lang} />
        {problem ? (
          <p class="problem" role="alert">
            {problem}
          </p>
        ) : null}
        {OPERATOR_ROLES.has(user.role) ? (
          <AlertActions alert={alert} t={t} onChanged={() => load()} onProblem={setProblem} />
        ) : null}
      </div>
      <AlertChart alert={alert} events={events} t={t} />
      <h3>{t.history}</h3>
      <ol class="history" data-testid="history">
        {events.map((e) => (
          <li key={e.id}>
            <time>{formatTime(e.at, lang)}</time> <strong>{t.event[e.type]}</strong>
            {e.by !== null ? ` ${t.by} ${e.by}` : ''}
            {e.note !== null ? `: ${e.note}` : ''}
          </li>
        ))}
      </ol>
      <h3>{t.notifications}</h3>
      {deliveries.length === 0 ? <p class="empty">{t.noNotifications}</p> : null}
      <ul class="deliveries" data-testid="deliveries">
        {deliveries.map((d) => (
          <li key={d.id}>
            <strong>
              {d.agency}/{d.receiver}
            </strong>{' '}
            ({d.type}): {t.delivery[d.status]}, {fill(t.attempts, { n: d.attempts.length })}
            {d.lastError !== null ? ` — ${d.lastError}` : ''}
          </li>
        ))}
      </ul>
    </section>
  );
}
