/**
 * The console's public part: asks whether a session exists (GET /v1/session); if not, shows the
 * sign-in form, which exchanges the API token for the session cookie (POST /v1/session). Only
 * then is the app (/console/app.js, /console/app.css: they need the session) loaded.
 */

function loadApp(): void {
  const css = document.createElement('link');
  css.rel = 'stylesheet';
  css.href = '/console/app.css';
  document.head.append(css);
  const js = document.createElement('script');
  js.src = '/console/app.js';
  document.head.append(js);
}

function signInForm(root: HTMLElement, message?: string): void {
  root.innerHTML = '';
  const form = document.createElement('form');
  form.className = 'signin';
  form.setAttribute('aria-label', 'Sign in');
  form.style.cssText = 'max-width:26rem;margin:15vh auto;font:16px system-ui,sans-serif;display:grid;gap:.75rem';
  const title = document.createElement('h1');
  title.textContent = 'batchgrid console';
  const label = document.createElement('label');
  label.textContent = 'API token';
  label.htmlFor = 'token';
  const input = document.createElement('input');
  Object.assign(input, { id: 'token', name: 'token', type: 'password', required: true, autocomplete: 'current-password', autofocus: true });
  input.style.cssText = 'font:inherit;padding:.4rem';
  const button = document.createElement('button');
  button.type = 'submit';
  button.textContent = 'Sign in';
  button.style.cssText = 'font:inherit;padding:.4rem';
  const error = document.createElement('p');
  error.setAttribute('role', 'alert');
  error.className = 'signin-error';
  error.style.color = '#b00020';
  error.textContent = message ?? '';
  const hint = document.createElement('p');
  hint.style.cssText = 'color:#555;font-size:14px';
  hint.textContent = 'The token is the server’s BATCHGRID_API_TOKEN. It is exchanged for a session cookie and not kept by the page.';
  form.append(title, label, input, button, error, hint);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    try {
      const res = await fetch('/v1/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: input.value }), credentials: 'same-origin' });
      if (res.status === 201) {
        root.innerHTML = '<p>Signed in; loading…</p>';
        loadApp();
        return;
      }
      error.textContent = res.status === 401 ? 'Wrong token: the server refused it.' : `Sign-in failed (HTTP ${res.status}).`;
    } catch (err) {
      error.textContent = `The server did not answer: ${String(err)}`;
    }
    button.disabled = false;
    input.select();
  });
  root.append(form);
  input.focus();
}

async function start(): Promise<void> {
  const root = document.getElementById('root')!;
  try {
    const res = await fetch('/v1/session', { credentials: 'same-origin' });
    if (res.ok) return loadApp();
  } catch {
    // shown as the form
  }
  signInForm(root);
}

// The app calls this when the session has ended (a 401), so the page asks for the token again.
(window as unknown as { batchgridSignIn: (m?: string) => void }).batchgridSignIn = (m) => signInForm(document.getElementById('root')!, m);
void start();
