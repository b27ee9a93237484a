// The console: who is signed in decides what is shown: the sign-in form, or the alerts inbox.
import { useEffect, useState } from 'preact/hooks';
import { api, type User } from './api.ts';
import { savedLang, saveLang, strings, type Lang } from './i18n.ts';
import { Inbox } from './inbox.tsx';
import { SignIn } from './sign-in.tsx';

export function App() {
  const [lang, setLang] = useState<Lang>(savedLang());
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const t = strings(lang);

  useEffect(() => {
    saveLang(lang);
    document.title = t.title;
  }, [lang, t.title]);

  useEffect(() => {
    api.session().then(
      ({ user }) => setUser(user),
      // Not signed in (401), or the API unreachable: the sign-in form says what happens next.
      (_err: unknown) => setUser(null),
    );
  }, []);

  const switchLang = () => setLang(lang === 'vi' ? 'en' : 'vi');
  const signOut = () => {
    void api.signOut().finally(() => setUser(null));
  };

  return (
    <div class="page">
      <header class="top">
        <h1>{t.title}</h1>
        <nav>
          {user ? (
            <span class="who">
              {user.name} · {user.role}
            </span>
          ) : null}
          <button type="button" class="link" onClick={switchLang} data-testid="language">
            {t.language}
          </button>
          {user ? (
            <button type="button" class="link" onClick={signOut} data-testid="sign-out">
              {t.signOut}
            </button>
          ) : null}
        </nav>
      </header>
      <main>
        {user === undefined ? null : user === null ? (
          <SignIn t={t} onSignedIn={setUser} />
        ) : (
          <Inbox t={t} lang={lang} user={user} />
        )}
      </main>
    </div>
  );
}
