// Acknowledge and resolve, each with a note: on the inbox's rows and on an alert's page.
import { useState } from 'preact/hooks';
import { api, type Alert } from './api.ts';
import { fill, type Strings } from './i18n.ts';

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
