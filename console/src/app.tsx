// The console: who is signed in decides what is shown: the sign-in form, or the alerts inbox.
import { useEffect, useState } from 'preact/hooks';
import { api, type User } from './api.ts';
import { savedLang, saveLang, strings, type Lang, type Strings } from './i18n.ts';
import { AgenciesPage } from './agencies-page.tsx';
import { AlertPage } from './alert-page.tsx';
import type { DevicePage as DevicePageComponent } from './device-page.tsx';
import type { MapPage as MapPageComponent } from './map-page.tsx';
import { Inbox } from './inbox.tsx';
import { SignIn } from './sign-in.tsx';
import { UsersPage } from './users-page.tsx';

export function App() {
  const [lang, setLang] = useState<Lang>(savedLang());
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [route, setRoute] = useState(location.hash);
  const t = strings(lang);

  useEffect(() => {
    saveLang(lang);
    document.title = t.title;
  }, [lang, t.title]);

  useEffect(() => {
    const follow = () => setRoute(location.hash);
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);

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
            <>
              <a href="#/">{t.inbox}</a>
              <a href="#/map">{t.map}</a>
              <a href="#/agencies">{t.agencies}</a>
              {user.role === 'admin' ? <a href="#/users">{t.users}</a> : null}
            </>
          ) : null}
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
          <Page route={route} t={t} lang={lang} user={user} />
        )}
      </main>
    </div>
  );
}

/**
 * `#/alerts/<id>`: an alert's page (what a notification links to); `#/devices/<id>`: a device's page;
 * `#/map`, `#/agencies`, and for an admin `#/users`; else the inbox.
 */
function Page(props: { route: string; t: Strings; lang: Lang; user: User }) {
  // The map (Leaflet) and the device page (uPlot) are loaded when first opened: the inbox, the page kept
  // open, stays small.
  const [MapPage, setMapPage] = useState<typeof MapPageComponent | null>(null);
  const [DevicePage, setDevicePage] = useState<typeof DevicePageComponent | null>(null);
  const device = /^#\/devices\/(.+)$/.exec(props.route);
  useEffect(() => {
    if (props.route === '#/map' && MapPage === null)
      void import('./map-page.tsx').then((m) => setMapPage(() => m.MapPage));
    if (device !== null && DevicePage === null)
      void import('./device-page.tsx').then((m) => setDevicePage(() => m.DevicePage));
  }, [props.route]);
  if (props.route === '#/map') return MapPage === null ? null : <MapPage t={props.t} />;
  if (props.route === '#/agencies') return <AgenciesPage t={props.t} lang={props.lang} />;
  if (props.route === '#/users' && props.user.role === 'admin')
    return <UsersPage t={props.t} lang={props.lang} me={props.user.username} />;
  if (device !== null)
    return DevicePage === null ? null : (
      <DevicePage id={decodeURIComponent(device[1]!)} t={props.t} lang={props.lang} user={props.user} />
    );
  const alert = /^#\/alerts\/(\d+)$/.exec(props.route);
  if (alert !== null)
    return <AlertPage id={Number(alert[1])} t={props.t} lang={props.lang} user={props.user} />;
  return <Inbox t={props.t} lang={props.lang} user={props.user} />;
}
