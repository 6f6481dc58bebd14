import { ServiceUnavailableError } from '../../common/errors';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/** True when an error means the service did not answer at all (network level), not that it refused the request. */
export function isUnreachable(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  if (e.name === 'TimeoutError' && !(err instanceof ServiceUnavailableError)) return true;
  // Node's fetch and AggregateError (happy eyeballs) put the network error one level down.
  if (Array.isArray(e.errors) && e.errors.some(isUnreachable)) return true;
  return e.cause !== undefined && e.cause !== err && isUnreachable(e.cause);
}

/** Runs `fn`; a network failure becomes a ServiceUnavailableError naming `service` and its endpoint. */
export async function reaching<T>(service: string, endpoint: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isUnreachable(err)) throw new ServiceUnavailableError(service, endpoint, { cause: err });
    throw err;
  }
}
