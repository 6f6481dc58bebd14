import { createHash, timingSafeEqual } from 'node:crypto';

/** The shortest token the API accepts (as BATCHGRID_API_TOKEN does). */
export const MIN_TOKEN_CHARS = 16;

const BEARER = /^Bearer[ ]+([^\s]+)[ ]*$/i;

/**
 * A checker of `Authorization: Bearer <token>` headers. Both sides are hashed first, so the
 * compare is constant-time and of fixed length: neither the token's content nor its length leaks.
 */
export function bearerChecker(token: string): (header: string | string[] | undefined) => boolean {
  if (token.length < MIN_TOKEN_CHARS) throw new Error(`the API token must be at least ${MIN_TOKEN_CHARS} characters long.`);
  const expected = createHash('sha256').update(token).digest();
  return (header) => {
    const match = typeof header === 'string' ? BEARER.exec(header) : null;
    const given = createHash('sha256').update(match?.[1] ?? '').digest();
    // Compare even without a match, so a missing header costs the same as a wrong token.
    return timingSafeEqual(given, expected) && match !== null;
  };
}
