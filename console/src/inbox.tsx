// The alerts inbox: every open and acknowledged alert, most severe and newest first, kept live by the
// alert stream (a new alert shows within a second, without reloading; a new critical one is announced,
// with a sound when the operator turned it on). Filtered by agency, severity, kind, district and text.
// An operator acknowledges or resolves with a note; a viewer sees the same list without the buttons.
// Alert texts, device names and notes come from rules, devices and people: they are rendered as text.
import { memo } from 'preact/compat';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { AlertActions, AlertFacts, OPERATOR_ROLES } from './actions.tsx';
import { alertStream, api, type Alert, type Severity, type User } from './api.ts';
import { fill, type Lang, type Strings } from './i18n.ts';

const RANK = { info: 1, warning: 2, critical: 3 } as const;

function byUrgency(a: Alert, b: Alert): number {
  return RANK[b.severity] - RANK[a.severity] || b.raisedAt.localeCompare(a.raisedAt) || b.id - a.id;
}

/** A short two-tone beep (Web Audio: no file to fetch), for a new critical alert when sound is on. */
function beep(): void {
  const Context = globalThis.AudioContext as typeof AudioContext | undefined;
  if (Context === undefined) return;
  const audio = new Context();
  [880, 660].forEach((hz, i) => {
    const tone = audio.createOscillator();
    tone.frequency.value = hz;
    tone.connect(audio.destination);
    tone.start(audio.currentTime + i * 0.2);
    tone.stop(audio.currentTime + i * 0.2 + 0.18);
  });
}

interface Filters {
  readonly owner: string;
  readonly severity: Severity | '';
  readonly kind: string;
  readonly district: string;
  readonly text: string;
}
const NO_FILTER: Filters = { owner: '', severity: '', kind: '', district: '', text: '' };

/**
 * Rows rendered at first, and added each time the end of the list scrolls into view. A thousand open
 * alerts would otherwise all be laid out before the inbox answers; a screen shows a few dozen.
 */
const FIRST_ROWS = 60;
const MORE_ROWS = 120;

/** Grows `limit` while the element the returned ref is given is on screen (or near it). */
function useGrowingLimit(total: number, reset: unknown): [number, (el: Element | null) => void] {
  const [limit, setLimit] = useState(FIRST_ROWS);
  const observer = useRef<IntersectionObserver | null>(null);
  useEffect(() => setLimit(FIRST_ROWS), [reset]);
  useEffect(() => () => observer.current?.disconnect(), []);
  const ref = useCallback((el: Element | null) => {
    observer.current?.disconnect();
    if (el === null) return;
    observer.current = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) setLimit((n) => n + MORE_ROWS);
      },
      { rootMargin: '800px' },
    );
    observer.current.observe(el);
  }, []);
  return [Math.min(limit, total), ref];
}

export function Inbox({ t, lang, user }: { t: Strings; lang: Lang; user: User }) {
  const [alerts, setAlerts] = useState<ReadonlyMap<number, Alert>>(new Map());
  const [live, setLive] = useState(false);
  const [filters, setFilters] = useState<Filters>(NO_FILTER);
  const [problem, setProblem] = useState<string | null>(null);
  const [announced, setAnnounced] = useState<Alert | null>(null);
  const [sound, setSound] = useState(false);
  const [selected, setSelected] = useState<ReadonlySet<number>>(new Set());
  const canAct = OPERATOR_ROLES.has(user.role);
  const toggle = useCallback(
    (id: number) =>
      setSelected((prev) => {
        const next = new Set(prev);
        if (!next.delete(id)) next.add(id);
        return next;
      }),
    [],
  );
  const soundOn = useRef(sound);
  soundOn.current = sound;

  // Stable across renders, so the memoised rows are not rendered again for a new callback.
  const put = useCallback(
    (a: Alert) =>
      setAlerts((prev) => {
        const next = new Map(prev);
        if (a.state === 'resolved') next.delete(a.id);
        else next.set(a.id, a);
        return next;
      }),
    [],
  );

  useEffect(() => {
    const seen = new Set<number>();
    // The stream first, then the list: a change between the two is not missed.
    const close = alertStream((a) => {
      if (a.severity === 'critical' && a.state === 'open' && !seen.has(a.id)) {
        seen.add(a.id);
        setAnnounced(a);
        if (soundOn.current) beep();
      }
      put(a);
    }, setLive);
    api.openAlerts().then(
      ({ alerts: list }) =>
        setAlerts((prev) => {
          for (const a of list) seen.add(a.id);
          const next = new Map(list.map((a) => [a.id, a]));
          for (const [id, a] of prev) next.set(id, a);
          return next;
        }),
      (err: unknown) => setProblem(fill(t.error, { m: err instanceof Error ? err.message : String(err) })),
    );
    return close;
  }, []);

  const all = [...alerts.values()];
  const options = (pick: (a: Alert) => string) => [...new Set(all.map(pick))].sort();
  const shown = useMemo(() => {
    const needle = filters.text.trim().toLowerCase();
    return all
      .filter(
        (a) =>
          (filters.owner === '' || a.owner === filters.owner) &&
          (filters.severity === '' || a.severity === filters.severity) &&
          (filters.kind === '' || a.kind === filters.kind) &&
          (filters.district === '' || a.district === filters.district) &&
          (needle === '' ||
            [a.title, a.message, a.device, a.district, a.owner].some((s) =>
              s.toLowerCase().includes(needle),
            )),
      )
      .sort(byUrgency);
  }, [alerts, filters]);

  const [limit, more] = useGrowingLimit(shown.length, filters);

  const set = (key: keyof Filters) => (e: Event) =>
    setFilters({ ...filters, [key]: (e.target as HTMLInputElement | HTMLSelectElement).value });
  const select = (key: 'owner' | 'kind' | 'district', label: string, all: string, values: string[]) => (
    <label>
      {label}
      <select value={filters[key]} onChange={set(key)}>
        <option value="">{all}</option>
        {values.map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
    </label>
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
        <label class="sound">
          <input type="checkbox" checked={sound} onChange={() => setSound(!sound)} /> {t.sound}
        </label>
      </div>
      <div class="filters">
        {select(
          'owner',
          t.owner,
          t.allAgencies,
          options((a) => a.owner),
        )}
        <label>
          {t.severityLabel}
          <select value={filters.severity} onChange={set('severity')}>
            <option value="">{t.allSeverities}</option>
            {(['critical', 'warning', 'info'] as const).map((s) => (
              <option key={s} value={s}>
                {t.severity[s]}
              </option>
            ))}
          </select>
        </label>
        {select(
          'kind',
          t.kind,
          t.allKinds,
          options((a) => a.kind),
        )}
        {select(
          'district',
          t.district,
          t.allDistricts,
          options((a) => a.district),
        )}
        <label class="filter">
          {t.filter}
          <input type="search" value={filters.text} onInput={set('text')} />
        </label>
      </div>
      {announced ? (
        <p class="announce" role="alert" data-testid="announce">
          {t.critical}: <a href={`#/alerts/${announced.id}`}>{announced.title}</a> ({announced.device}){' '}
          <button type="button" class="link" onClick={() => setAnnounced(null)}>
            ✕
          </button>
        </p>
      ) : null}
      {problem ? (
        <p class="problem" role="alert">
          {problem}
        </p>
      ) : null}
      {shown.length === 0 ? <p class="empty">{t.none}</p> : null}
      {canAct && selected.size > 0 ? (
        <SelectionBar
          t={t}
          alerts={shown.filter((a) => selected.has(a.id))}
          onChanged={put}
          onProblem={setProblem}
          onDone={() => setSelected(new Set())}
        />
      ) : null}
      <ul class="alerts">
        {shown.slice(0, limit).map((a) => (
          <AlertRow
            key={a.id}
            alert={a}
            t={t}
            lang={lang}
            canAct={canAct}
            selected={selected.has(a.id)}
            onSelect={toggle}
            onChanged={put}
            onProblem={setProblem}
          />
        ))}
      </ul>
      {limit < shown.length ? (
        <p class="more" ref={more} data-testid="more">
          {fill(t.more, { shown: limit, total: shown.length })}
        </p>
      ) : null}
    </section>
  );
}

interface RowProps {
  readonly alert: Alert;
  readonly t: Strings;
  readonly lang: Lang;
  readonly canAct: boolean;
  readonly selected: boolean;
  readonly onSelect: (id: number) => void;
  readonly onChanged: (alert: Alert) => void;
  readonly onProblem: (message: string) => void;
}

/**
 * One alert's row. Memoised: a change to one alert renders its row again, not the thousand others (the
 * alert objects of unchanged rows are the same objects).
 */
const AlertRow = memo(function AlertRow(props: RowProps) {
  const { alert: a, t, lang, canAct, onChanged, onProblem } = props;
  return (
    <li class={`alert ${a.severity} ${a.state}`} data-testid="alert" data-alert={a.id}>
      <div class="head">
        {canAct ? (
          <input
            type="checkbox"
            checked={props.selected}
            onChange={() => props.onSelect(a.id)}
            aria-label={fill(t.select, { title: a.title, device: a.device })}
          />
        ) : null}
        <span class={`badge ${a.severity}`}>{t.severity[a.severity]}</span>
        <a class="title" href={`#/alerts/${a.id}`}>
          {a.title}
        </a>
        <span class="state">{t.state[a.state]}</span>
      </div>
      <p class="message">{a.message}</p>
      <AlertFacts alert={a} t={t} lang={lang} />
      {a.acknowledgedBy !== null ? (
        <p class="ack">
          {t.state.acknowledged} {t.by} {a.acknowledgedBy}
          {a.acknowledgeNote ? `: ${a.acknowledgeNote}` : ''}
        </p>
      ) : null}
      {canAct ? <AlertActions alert={a} t={t} onChanged={onChanged} onProblem={onProblem} /> : null}
    </li>
  );
});

/** Acknowledge or resolve every selected alert, with one note: each goes through the API on its own. */
function SelectionBar(props: {
  t: Strings;
  alerts: readonly Alert[];
  onChanged: (alert: Alert) => void;
  onProblem: (message: string) => void;
  onDone: () => void;
}) {
  const { t, alerts } = props;
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const act = async (kind: 'acknowledge' | 'resolve') => {
    setBusy(true);
    for (const a of alerts) {
      if (kind === 'acknowledge' && a.state !== 'open') continue;
      try {
        props.onChanged((await api[kind](a.id, note)).alert);
      } catch (err) {
        props.onProblem(fill(t.error, { m: err instanceof Error ? err.message : String(err) }));
      }
    }
    setBusy(false);
    setNote('');
    props.onDone();
  };
  return (
    <div class="selection" data-testid="selection">
      <span>{fill(t.selected, { n: alerts.length })}</span>
      <label>
        {t.note}
        <input name="note" value={note} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
      </label>
      <button type="button" disabled={busy} onClick={() => void act('acknowledge')}>
        {t.acknowledge}
      </button>
      <button type="button" disabled={busy} onClick={() => void act('resolve')}>
        {t.resolve}
      </button>
      <button type="button" class="link" onClick={props.onDone}>
        {t.cancel}
      </button>
    </div>
  );
}
