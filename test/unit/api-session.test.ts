import { cookieValue, SESSION_COOKIE, SESSION_TTL_MS, sessionKeeper } from '../../manager/api/session';

/** The console's stateless sessions: signed cookies that expire, bound CSRF tokens, and a token change that ends them all. */
const TOKEN = 'a-token-of-enough-length';
const cookieOf = (setCookie: string) => setCookie.split(';')[0]!;

test('a session cookie reads back until it expires, with its CSRF token', () => {
  let now = 1_000_000;
  const keeper = sessionKeeper(TOKEN, () => now);
  const s = keeper.create({ secure: false });
  expect(s.cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=\\d+\\.[\\w-]+\\.[\\w-]+; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200$`));
  expect(keeper.create({ secure: true }).cookie).toMatch(/; Secure$/);
  const read = keeper.read(`other=1; ${cookieOf(s.cookie)}; more=2`);
  expect(read).toEqual({ expiresAt: s.expiresAt, csrfToken: s.csrfToken });
  expect(keeper.csrfMatches(read!, s.csrfToken)).toBe(true);
  expect(keeper.csrfMatches(read!, `${s.csrfToken}x`)).toBe(false);
  expect(keeper.csrfMatches(read!, undefined)).toBe(false);
  expect(keeper.csrfMatches(read!, [s.csrfToken])).toBe(false);
  now += SESSION_TTL_MS - 1;
  expect(keeper.read(cookieOf(s.cookie))).toBeDefined();
  now += 1;
  expect(keeper.read(cookieOf(s.cookie))).toBeUndefined();
});

test('a tampered, foreign or malformed cookie is no session; a new token ends every session', () => {
  const keeper = sessionKeeper(TOKEN);
  const cookie = cookieOf(keeper.create({ secure: false }).cookie);
  const [exp, nonce, sig] = cookieValue(cookie, SESSION_COOKIE)!.split('.') as [string, string, string];
  for (const forged of [`${Number(exp) + 1}.${nonce}.${sig}`, `${exp}.${nonce}x.${sig}`, `${exp}.${nonce}.${sig.slice(1)}`, `${exp}.${nonce}`, '', 'x.y.z']) {
    expect([forged, keeper.read(`${SESSION_COOKIE}=${forged}`)]).toEqual([forged, undefined]);
  }
  expect(keeper.read(undefined)).toBeUndefined();
  expect(sessionKeeper(`${TOKEN}-rotated`).read(cookie)).toBeUndefined();
  // Two sessions never share a CSRF token.
  expect(keeper.create({ secure: false }).csrfToken).not.toBe(keeper.create({ secure: false }).csrfToken);
  expect(keeper.clearCookie({ secure: false })).toBe(`${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
});
