import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Name of the console's session cookie (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = 'batchgrid_session';
/** Header a cookie-authenticated write must carry, holding the session's CSRF token. */
export const CSRF_HEADER = 'x-csrf-token';
/** How long a console session lasts, ms. */
export const SESSION_TTL_MS = 12 * 3600_000;

/** A session the cookie proved: when it ends, and the CSRF token bound to it. */
export interface Session {
  expiresAt: Date;
  csrfToken: string;
}

/**
 * Console sessions without a store: the cookie is `<expiry ms>.<nonce>.<HMAC>`, signed with a key
 * derived from the API token, so changing the token ends every session; the CSRF token is another
 * HMAC of the same nonce, which only the server can compute and only the signed-in page is told.
 */
export interface SessionKeeper {
  /** A new session: the Set-Cookie value and what the page needs. */
  create(options: { secure: boolean }): Session & { cookie: string };
  /** The session a Cookie header carries, or undefined when there is none, it is forged or expired. */
  read(cookieHeader: string | undefined): Session | undefined;
  /** True when `header` is the CSRF token of `session` (compared in constant time). */
  csrfMatches(session: Session, header: string | string[] | undefined): boolean;
  /** The Set-Cookie value that ends the session in the browser. */
  clearCookie(options: { secure: boolean }): string;
}

const mac = (key: Buffer, data: string) => createHmac('sha256', key).update(data).digest('base64url');

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The value of cookie `name` in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const pair of (header ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

const attributes = (maxAgeSeconds: number, secure: boolean) => `Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;

/** Sessions signed with a key derived from `token`; `now` (epoch ms) is for tests. */
export function sessionKeeper(token: string, now: () => number = Date.now): SessionKeeper {
  const key = createHmac('sha256', token).update('batchgrid console session v1').digest();
  const csrfOf = (nonce: string) => mac(key, `csrf.${nonce}`);
  return {
    create({ secure }) {
      const expires = now() + SESSION_TTL_MS;
      const nonce = randomBytes(18).toString('base64url');
      const value = `${expires}.${nonce}.${mac(key, `session.${expires}.${nonce}`)}`;
      return { cookie: `${SESSION_COOKIE}=${value}; ${attributes(SESSION_TTL_MS / 1000, secure)}`, expiresAt: new Date(expires), csrfToken: csrfOf(nonce) };
    },
    read(cookieHeader) {
      const parts = cookieValue(cookieHeader, SESSION_COOKIE)?.split('.');
      if (parts?.length !== 3) return undefined;
      const [expires, nonce, signature] = parts as [string, string, string];
      if (!sameText(signature, mac(key, `session.${expires}.${nonce}`))) return undefined;
      const expiresAt = Number(expires);
      return Number.isFinite(expiresAt) && expiresAt > now() ? { expiresAt: new Date(expiresAt), csrfToken: csrfOf(nonce) } : undefined;
    },
    csrfMatches(session, header) {
      return typeof header === 'string' && sameText(header, session.csrfToken);
    },
    clearCookie({ secure }) {
      return `${SESSION_COOKIE}=; ${attributes(0, secure)}`;
    },
  };
}
