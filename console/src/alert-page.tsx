// One alert: what it says, its value against its limit, its history (raised, escalated, referred,
// acknowledged and resolved, by whom, with notes) and the notifications sent of it, to which receivers
// and how each went. Kept current by the alert stream.
import { useEffect, useState } from 'preact/hooks';
import { AlertActions, AlertFacts, OPERATOR_ROLES } from './actions.tsx';
import { alertStream, api, type Alert, type AlertEvent, type Delivery, type User } from './api.ts';
import { fill, formatTime, type Lang, type Strings } from './i18n.ts';

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
