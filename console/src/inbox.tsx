// The alerts inbox: every open and acknowledged alert, most severe and newest first, kept live by the
// alert stream (a new alert shows within a second, without reloading). An operator acknowledges or
// resolves with a note; a viewer sees the same list without the buttons. Alert texts, device names and
// notes come from rules, devices and people: they are rendered as text, never as markup.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { alertStream, api, type Alert, type User } from './api.ts';
import { fill, formatNumber, formatTime, type Lang, type Strings } from './i18n.ts';

const RANK = { info: 1, warning: 2, critical: 3 } as const;
const OPERATOR_ROLES = new Set(['operator', 'engineer', 'admin']);

function byUrgency(a: Alert, b: Alert): number {
  return RANK[b.severity] - RANK[a.severity] || b.raisedAt.localeCompare(a.raisedAt) || b.id - a.id;
}

export function Inbox({ t, lang, user }: { t: Strings; lang: Lang; user: User }) {
  const [alerts, setAlerts] = useState<ReadonlyMap<number, Alert>>(new Map());
  const [live, setLive] = useState(false);
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    const put = (a: Alert) =>
      setAlerts((prev) => {
        const next = new Map(prev);
        if (a.state === 'resolved') next.delete(a.id);
        else next.set(a.id, a);
        return next;
      });
    // The stream first, then the list: a change between the two is not missed.
    const close = alertStream(put, setLive);
    api.openAlerts().then(
      ({ alerts: list }) =>
        setAlerts((prev) => {
          const next = new Map(list.map((a) => [a.id, a]));
          for (const [id, a] of prev) next.set(id, a);
          return next;
        }),
      (err: unknown) => setProblem(fill(t.error, { m: err instanceof Error ? err.message : String(err) })),
    );
    return close;
  }, []);

  const shown = useMemo(() => {
    const needle = text.trim().toLowerCase();
    return [...alerts.values()]
      .filter((a) =>
        needle === ''
          ? true
          : [a.title, a.message, a.device, a.district, a.owner].some((s) => s.toLowerCase().includes(needle)),
      )
      .sort(byUrgency);
  }, [alerts, text]);

  const act = (kind: 'acknowledge' | 'resolve', alert: Alert, note: string) =>
    api[kind](alert.id, note).then(
      ({ alert: changed }) =>
        setAlerts((prev) => {
          const next = new Map(prev);
          if (changed.state === 'resolved') next.delete(changed.id);
          else next.set(changed.id, changed);
          return next;
        }),
      (err: unknown) => setProblem(fill(t.error, { m: err instanceof Error ? err.message : String(err) })),
    );

  return (
    <section class="inbox" aria-labelledby="inbox-title">
      <div class="bar">
        <h2 id="inbox-title">
          {t.inbox} <span class="count">{shown.length}</span>
        </h2>
        <span class={live ? 'live on' : 'live'} data-testid="live">
          {live ? t.live : t.reconnecting}
        </span>
        <label class="filter">
          {t.filter}
          <input type="search" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        </label>
      </div>
      {problem ? (
        <p class="problem" role="alert">
          {problem}
        </p>
      ) : null}
      {shown.length === 0 ? <p class="empty">{t.none}</p> : null}
      <ul class="alerts">
        {shown.map((a) => (
          <AlertRow
            key={a.id}
            alert={a}
            t={t}
            lang={lang}
            canAct={OPERATOR_ROLES.has(user.role)}
            onAct={act}
          />
        ))}
      </ul>
    </section>
  );
}

function AlertRow(props: {
  alert: Alert;
  t: Strings;
  lang: Lang;
  canAct: boolean;
  onAct: (kind: 'acknowledge' | 'resolve', alert: Alert, note: string) => Promise<void>;
}) {
  const { alert: a, t, lang } = props;
  const [action, setAction] = useState<'acknowledge' | 'resolve' | null>(null);
  const [note, setNote] = useState('');
  const confirm = (e: Event) => {
    e.preventDefault();
    if (action === null) return;
    void props.onAct(action, a, note).then(() => {
      setAction(null);
      setNote('');
    });
  };
  return (
    <li class={`alert ${a.severity} ${a.state}`} data-testid="alert" data-alert={a.id}>
      <div class="head">
        <span class={`badge ${a.severity}`}>{t.severity[a.severity]}</span>
        <strong class="title">{a.title}</strong>
        <span class="state">{t.state[a.state]}</span>
      </div>
      <p class="message">{a.message}</p>
      <dl class="facts">
        <dt>{t.device}</dt>
        <dd class="device">{a.device}</dd>
        <dt>{t.district}</dt>
        <dd>{a.district}</dd>
        <dt>{t.owner}</dt>
        <dd>{a.owner}</dd>
        <dt>{t.raised}</dt>
        <dd>{formatTime(a.raisedAt, lang)}</dd>
        {a.value !== null ? (
          <>
            <dt>{t.value}</dt>
            <dd>
              {formatNumber(a.value, lang)}
              {a.threshold !== null ? ` (${t.limit} ${formatNumber(a.threshold, lang)})` : ''}
            </dd>
          </>
        ) : null}
      </dl>
      {a.acknowledgedBy !== null ? (
        <p class="ack">
          {t.state.acknowledged} {t.by} {a.acknowledgedBy}
          {a.acknowledgeNote ? `: ${a.acknowledgeNote}` : ''}
        </p>
      ) : null}
      {props.canAct && action === null ? (
        <div class="actions">
          {a.state === 'open' ? (
            <button type="button" onClick={() => setAction('acknowledge')}>
              {t.acknowledge}
            </button>
          ) : null}
          <button type="button" onClick={() => setAction('resolve')}>
            {t.resolve}
          </button>
        </div>
      ) : null}
      {action !== null ? (
        <form class="act" onSubmit={confirm}>
          <label>
            {t.note}
            <input name="note" value={note} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit">{action === 'acknowledge' ? t.acknowledge : t.resolve}</button>
          <button type="button" class="link" onClick={() => setAction(null)}>
            {t.cancel}
          </button>
        </form>
      ) : null}
    </li>
  );
}
