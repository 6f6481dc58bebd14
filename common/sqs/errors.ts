/** What the logs say about a failed AWS call, and whether retrying it may help. */
export interface AwsErrorInfo {
  code: string;
  status?: number;
  retryable: boolean;
  message: string;
}

const RETRYABLE_CODES = new Set([
  'ThrottlingException', 'Throttling', 'RequestThrottled', 'RequestThrottledException', 'SlowDown', 'ServiceUnavailable',
  'InternalError', 'InternalFailure', 'KMS.ThrottlingException', 'RequestTimeout', 'RequestTimeoutException', 'TimeoutError',
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET',
]);

/** Describes an AWS SDK (or network) error: code, HTTP status and retryability. */
export function describeAwsError(err: unknown): AwsErrorInfo {
  const e = (err ?? {}) as { name?: string; code?: string; Code?: string; message?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown; $fault?: string };
  const code = e.code && /^E[A-Z]+$/.test(e.code) ? e.code : (e.name ?? e.Code ?? 'Error');
  const status = e.$metadata?.httpStatusCode;
  const retryable =
    e.$retryable !== undefined ||
    RETRYABLE_CODES.has(code) ||
    (status !== undefined && (status >= 500 || status === 429)) ||
    // No HTTP answer at all: a network problem, worth another try.
    (status === undefined && e.$fault === undefined && code !== 'AbortError');
  return { code, status, retryable, message: e.message ?? String(err) };
}

/** True when SQS says the queue does not exist (the JSON and the query protocol name it differently). */
export function isQueueGone(err: unknown): boolean {
  const e = (err ?? {}) as { name?: string; Code?: string; code?: string };
  return [e.name, e.Code, e.code].some((c) => c === 'QueueDoesNotExist' || c === 'AWS.SimpleQueueService.NonExistentQueue');
}

/** True for the error an aborted SDK call rejects with. */
export function isAbortError(err: unknown): boolean {
  return (err as { name?: string } | undefined)?.name === 'AbortError';
}
