// The users who may sign in, for an admin: create one with a role, a language and a first password; change
// a role or a language, set a new password, disable or remove. The API ends a user's sessions when their
// password, role or standing changes, so a change here takes effect at once.
import { useEffect, useState } from 'preact/hooks';
import { api, type Role, type UserRecord } from './api.ts';
import { fill, formatTime, type Lang, type Strings } from './i18n.ts';

const ROLES: readonly Role[] = ['viewer', 'operator', 'engineer', 'admin'];

function RoleOptions({ t }: { t: Strings }) {
  return (
    <>
      {ROLES.map((r) => (
        <option key={r} value={r}>
          {t.roles[r]}
        </option>
      ))}
    </>
  );
}

function why(err: unknown, t: Strings): string {
  return fill(t.error, { m: err instanceof Error ? err.message : String(err) });
}

export function UsersPage({ t, lang, me }: { t: Strings; lang: Lang; me: string }) {
  const [users, setUsers] = useState<readonly UserRecord[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const reload = () =>
    api.users().then(
      ({ users: list }) => setUsers(list),
      (err: unknown) => setProblem(why(err, t)),
    );
  useEffect(() => void reload(), []);

  /** Runs a change, then says what happened and shows the list as the API has it now. */
  const change = (what: Promise<unknown>, said: string) =>
    what.then(
      () => {
        setProblem(null);
        setDone(said);
        return reload();
      },
      (err: unknown) => {
        setDone(null);
        setProblem(why(err, t));
      },
    );

  return (
    <section class="users-page" aria-labelledby="users-title">
      <h2 id="users-title">{t.users}</h2>
      {problem ? (
        <p class="problem" role="alert">
          {problem}
        </p>
      ) : null}
      {done ? (
        <p class="done" role="status">
          {done}
        </p>
      ) : null}
      <table class="users" data-testid="users">
        <thead>
          <tr>
            <th scope="col">{t.username}</th>
            <th scope="col">{t.displayName}</th>
            <th scope="col">{t.role}</th>
            <th scope="col">{t.languageLabel}</th>
            <th scope="col">{t.since}</th>
            <th scope="col">{t.actions}</th>
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <UserRow key={u.username} user={u} t={t} lang={lang} me={u.username === me} change={change} />
          ))}
        </tbody>
      </table>
      <NewUser t={t} change={change} />
    </section>
  );
}

function UserRow(props: {
  user: UserRecord;
  t: Strings;
  lang: Lang;
  me: boolean;
  change: (what: Promise<unknown>, said: string) => Promise<void>;
}) {
  const { user: u, t, change } = props;
  const [password, setPassword] = useState<string | null>(null);
  const named = (template: string) => fill(template, { user: u.username });
  return (
    <tr data-user={u.username} class={u.disabled ? 'disabled' : ''}>
      <th scope="row">
        {u.username}
        {u.disabled ? <span class="muted"> ({t.disabled})</span> : null}
      </th>
      <td>{u.name}</td>
      <td>
        <select
          aria-label={named(t.roleOf)}
          value={u.role}
          disabled={props.me}
          onChange={(e) => {
            const role = (e.target as HTMLSelectElement).value as Role;
            void change(api.updateUser(u.username, { role }), named(t.userChanged));
          }}
        >
          <RoleOptions t={t} />
        </select>
      </td>
      <td>{u.language === 'vi' ? 'Tiếng Việt' : 'English'}</td>
      <td>{formatTime(u.created_at, props.lang)}</td>
      <td class="row-actions">
        {password === null ? (
          <button type="button" onClick={() => setPassword('')}>
            {t.newPassword}
          </button>
        ) : (
          <form
            class="act"
            onSubmit={(e) => {
              e.preventDefault();
              void change(api.updateUser(u.username, { password }), named(t.passwordSet)).then(() =>
                setPassword(null),
              );
            }}
          >
            <label>
              {named(t.newPasswordFor)}
              <input
                type="password"
                autocomplete="new-password"
                minLength={12}
                required
                value={password}
                onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
              />
            </label>
            <button type="submit">{t.confirm}</button>
            <button type="button" class="link" onClick={() => setPassword(null)}>
              {t.cancel}
            </button>
          </form>
        )}
        {props.me ? null : (
          <>
            <button
              type="button"
              onClick={() =>
                void change(
                  api.updateUser(u.username, { disabled: !u.disabled }),
                  named(u.disabled ? t.userEnabled : t.userDisabled),
                )
              }
            >
              {u.disabled ? t.enable : t.disable}
            </button>
            <button
              type="button"
              class="danger"
              onClick={() => {
                if (confirm(named(t.removeUserConfirm)))
                  void change(api.removeUser(u.username), named(t.userRemoved));
              }}
            >
              {t.remove}
            </button>
          </>
        )}
      </td>
    </tr>
  );
}

const BLANK = { username: '', name: '', role: 'operator' as Role, language: 'vi' as Lang, password: '' };

function NewUser(props: { t: Strings; change: (what: Promise<unknown>, said: string) => Promise<void> }) {
  const { t } = props;
  const [form, setForm] = useState(BLANK);
  const field = (key: keyof typeof BLANK) => (e: Event) =>
    setForm({ ...form, [key]: (e.target as HTMLInputElement | HTMLSelectElement).value });
  const submit = (e: Event) => {
    e.preventDefault();
    const { name, ...rest } = form;
    void props.change(
      api.createUser(name.trim() === '' ? rest : { ...rest, name }).then(() => setForm(BLANK)),
      fill(t.userCreated, { user: form.username }),
    );
  };
  return (
    <form class="new-user" onSubmit={submit} data-testid="new-user">
      <h3>{t.newUser}</h3>
      <label>
        {t.username}
        <input
          required
          pattern="[a-z0-9][a-z0-9._\-]{1,39}"
          value={form.username}
          onInput={field('username')}
        />
      </label>
      <label>
        {t.displayName}
        <input value={form.name} onInput={field('name')} />
      </label>
      <label>
        {t.role}
        <select value={form.role} onChange={field('role')}>
          <RoleOptions t={t} />
        </select>
      </label>
      <label>
        {t.languageLabel}
        <select value={form.language} onChange={field('language')}>
          <option value="vi">Tiếng Việt</option>
          <option value="en">English</option>
        </select>
      </label>
      <label>
        {t.firstPassword}
        <input
          type="password"
          autocomplete="new-password"
          minLength={12}
          required
          value={form.password}
          onInput={field('password')}
        />
      </label>
      <button type="submit">{t.create}</button>
    </form>
  );
}
