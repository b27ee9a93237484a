// A device's commands on its page: the last ones sent, with their state and the check of their result,
// and for operators a form to send one (a lamp's level or switch, a gauge's interval, reboot, ping)
// through POST /api/commands. The kinds' commands are the contract's (docs/commands.md).
import { useEffect, useState } from 'preact/hooks';
import { api, type CommandView } from './api.ts';
import { fill, formatTime, type Lang, type Strings } from './i18n.ts';

const BY_KIND: Readonly<Record<string, readonly string[]>> = {
  streetlight: ['set_dim', 'switch', 'reboot', 'ping'],
  flood: ['set_interval', 'reboot', 'ping'],
  air_quality: ['reboot', 'ping'],
};

/** What the form starts with for a type: a lamp at half, a gauge every minute, a switch on. */
function firstValue(type: string): string {
  return type === 'switch' ? 'on' : type === 'set_interval' ? '60' : '50';
}

function paramsOf(type: string, value: string): Record<string, unknown> {
  if (type === 'set_dim') return { level_pct: Number(value) };
  if (type === 'set_interval') return { seconds: Number(value) };
  if (type === 'switch') return { state: value };
  return {};
}

export function CommandsPanel(props: { id: string; kind: string; canSend: boolean; t: Strings; lang: Lang }) {
  const { id, kind, t } = props;
  const [list, setList] = useState<readonly CommandView[]>([]);
  const types = BY_KIND[kind] ?? ['ping'];
  const [type, setType] = useState(types[0]!);
  const [value, setValue] = useState(firstValue(types[0]!));
  const [problem, setProblem] = useState<string | null>(null);

  const reload = () =>
    api.commandsOf(id).then(
      ({ commands }) => setList(commands),
      () => setList([]),
    );
  useEffect(() => {
    void reload();
    const timer = setInterval(() => void reload(), 5000);
    return () => clearInterval(timer);
  }, [id]);

  const send = (e: Event) => {
    e.preventDefault();
    api.sendCommand({ target: { device: id }, type, params: paramsOf(type, value) }).then(
      () => {
        setProblem(null);
        void reload();
      },
      (err: unknown) => setProblem(fill(t.error, { m: err instanceof Error ? err.message : String(err) })),
    );
  };

  return (
    <>
      <h3>{t.commands}</h3>
      {props.canSend ? (
        <form class="act" onSubmit={send} data-testid="send-command">
          <label>
            {t.command}
            <select
              value={type}
              onChange={(e) => {
                const next = (e.target as HTMLSelectElement).value;
                setType(next);
                setValue(firstValue(next));
              }}
            >
              {types.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </label>
          {type === 'switch' ? (
            <label>
              {t.commandValue}
              <select value={value} onChange={(e) => setValue((e.target as HTMLSelectElement).value)}>
                {['on', 'off', 'auto'].map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </label>
          ) : type === 'set_dim' || type === 'set_interval' ? (
            <label>
              {type === 'set_dim' ? t.levelPct : t.intervalS}
              <input
                type="number"
                value={value}
                min={type === 'set_dim' ? 0 : 10}
                max={type === 'set_dim' ? 100 : 86_400}
                onInput={(e) => setValue((e.target as HTMLInputElement).value)}
              />
            </label>
          ) : null}
          <button type="submit">{t.send}</button>
        </form>
      ) : null}
      {problem ? (
        <p class="problem" role="alert">
          {problem}
        </p>
      ) : null}
      {list.length === 0 ? <p class="empty">{t.noCommands}</p> : null}
      <ul class="history" data-testid="commands">
        {list.map((c) => (
          <li key={c.id} data-state={c.state}>
            <time>{formatTime(c.createdAt, props.lang)}</time> <code>{c.type}</code>{' '}
            {JSON.stringify(c.params)}: <strong>{t.commandState[c.state]}</strong>
            {c.check !== null ? ` · ${t.commandCheck[c.check]}` : ''}
            {c.detail !== null ? ` — ${c.detail}` : ''} <span class="muted">({c.by})</span>
          </li>
        ))}
      </ul>
    </>
  );
}
