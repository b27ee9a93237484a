// What the inbox's rows and an alert's page share: the alert's facts, and acknowledge and resolve, each
// with a note.
import { useState } from 'preact/hooks';
import { api, type Alert } from './api.ts';
import { fill, formatNumber, formatTime, type Lang, type Strings } from './i18n.ts';

export function AlertActions(props: {
  alert: Alert;
  t: Strings;
  onChanged: (alert: Alert) => void;
  onProblem: (message: string) => void;
}) {
  const { alert: a, t } = props;
  const [action, setAction] = useState<'acknowledge' | 'resolve' | null>(null);
  const [note, setNote] = useState('');
  const confirm = (e: Event) => {
    e.preventDefault();
    if (action === null) return;
    api[action](a.id, note).then(
      ({ alert }) => {
        setAction(null);
        setNote('');
        props.onChanged(alert);
      },
      (err: unknown) =>
        props.onProblem(fill(t.error, { m: err instanceof Error ? err.message : String(err) })),
    );
  };
  if (action === null)
    return (
      <div class="actions">
        {a.state === 'open' ? (
          <button type="button" onClick={() => setAction('acknowledge')}>
            {t.acknowledge}
          </button>
        ) : null}
        {a.state !== 'resolved' ? (
          <button type="button" onClick={() => setAction('resolve')}>
            {t.resolve}
          </button>
        ) : null}
      </div>
    );
  return (
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
  );
}

export const OPERATOR_ROLES: ReadonlySet<string> = new Set(['operator', 'engineer', 'admin']);

/** Where and when: the device (linked to its page), district, agency, time raised, value against limit. */
export function AlertFacts({ alert: a, t, lang }: { alert: Alert; t: Strings; lang: Lang }) {
  return (
    <dl class="facts">
      <dt>{t.device}</dt>
      <dd>
        <a href={`#/devices/${encodeURIComponent(a.device)}`}>{a.device}</a>
      </dd>
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
  );
}
