import { useState } from 'preact/hooks';
import { api, ApiFailure, type User } from './api.ts';
import { fill, type Strings } from './i18n.ts';

export function SignIn({ t, onSignedIn }: { t: Strings; onSignedIn: (user: User) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setProblem(null);
    api.signIn(username, password).then(
      ({ user }) => onSignedIn(user),
      (err: unknown) => {
        setBusy(false);
        if (err instanceof ApiFailure && err.code === 'API_ERR_SIGN_IN_LOCKED')
          setProblem(fill(t.signInLocked, { s: Number(err.details?.retryAfterS ?? 0) }));
        else if (err instanceof ApiFailure && err.code === 'API_ERR_SIGN_IN') setProblem(t.signInFailed);
        else setProblem(fill(t.error, { m: err instanceof Error ? err.message : String(err) }));
      },
    );
  };

  return (
    <form class="sign-in" onSubmit={submit}>
      <h2>{t.signIn}</h2>
      <label>
        {t.username}
        <input
          name="username"
          autocomplete="username"
          required
          value={username}
          onInput={(e) => setUsername((e.target as HTMLInputElement).value)}
        />
      </label>
      <label>
        {t.password}
        <input
          name="password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
        />
      </label>
      {problem ? (
        <p class="problem" role="alert">
          {problem}
        </p>
      ) : null}
      <button type="submit" disabled={busy}>
        {t.signIn}
      </button>
    </form>
  );
}
