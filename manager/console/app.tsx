import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, setCsrfToken } from './api';
import { timeZone } from './format';
import { useRoute } from './hooks';
import { FleetPage, FleetsPage } from './pages/fleets';
import { JobPage } from './pages/job';
import { JobsPage } from './pages/jobs';
import { SubmitPage } from './pages/submit';

/** What GET /v1/session says: the CSRF token for writes, and where the Temporal UI is. */
export interface SessionInfo {
  expiresAt: string | null;
  csrfToken: string | null;
  temporalUi: { url: string; namespace: string } | null;
}

function Nav({ active }: { active: string }) {
  const link = (href: string, name: string, label: string) => (
    <a href={href} aria-current={active === name ? 'page' : undefined}>
      {label}
    </a>
  );
  const signOut = async () => {
    await api('DELETE', '/v1/session').catch(() => undefined);
    location.hash = '';
    location.reload();
  };
  return (
    <header class="top">
      <strong class="brand">batchgrid</strong>
      <nav aria-label="main">
        {link('#/jobs', 'jobs', 'Jobs')}
        {link('#/fleets', 'fleets', 'Fleets')}
        {link('#/submit', 'submit', 'Submit')}
      </nav>
      <span class="tz" title="Times are shown in this time zone">
        times in {timeZone}
      </span>
      <button type="button" onClick={signOut}>
        Sign out
      </button>
    </header>
  );
}

function App({ session }: { session: SessionInfo }) {
  const { path, query } = useRoute();
  const [page = 'jobs', id] = path;
  let body;
  if (page === 'jobs' && id) body = <JobPage jobId={id} query={query} session={session} />;
  else if (page === 'fleets' && id) body = <FleetPage fleet={id} />;
  else if (page === 'fleets') body = <FleetsPage />;
  else if (page === 'submit') body = <SubmitPage />;
  else body = <JobsPage query={query} />;
  useEffect(() => {
    document.title = `${id ?? page} · batchgrid console`;
    scrollTo(0, 0);
  }, [page, id]);
  return (
    <>
      <Nav active={page} />
      {/* Keyed by page: another page is a new tree, not a patch of the last one. */}
      <main class="page" key={`${page}/${id ?? ''}`}>
        {body}
      </main>
    </>
  );
}

function Root() {
  const [session, setSession] = useState<SessionInfo>();
  useEffect(() => {
    void api<SessionInfo>('GET', '/v1/session').then((s) => {
      setCsrfToken(s.csrfToken ?? '');
      setSession(s);
    });
  }, []);
  return session ? <App session={session} /> : <p>Loading…</p>;
}

const root = document.getElementById('root')!;
root.innerHTML = '';
render(<Root />, root);
