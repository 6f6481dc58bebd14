/** The console's only way to the server: the batchgrid HTTP API, with the session cookie and its CSRF token. */

/** Thrown when the API answers with an error: its status and JSON body (`error`, maybe `problems`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { error?: string; problems?: Problem[] },
  ) {
    super(body.error ?? `HTTP ${status}`);
    this.name = 'ApiError';
  }
}

export interface Problem {
  path: string;
  message: string;
  line?: number;
}

let csrfToken = '';

/** Remembers the session's CSRF token, sent with every write. */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** The session ended (signed out elsewhere, expired): back to the sign-in form. */
function sessionEnded(): void {
  (window as unknown as { batchgridSignIn?: (m?: string) => void }).batchgridSignIn?.('Your session has ended: sign in again.');
}

/** Calls the API; JSON in and out. A 401 ends the session in the page. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const text = await res.text();
  const json = text ? JSON.parse(text) : undefined;
  if (res.status === 401) sessionEnded();
  if (!res.ok) throw new ApiError(res.status, json ?? {});
  return json as T;
}

/** Uploads one file of a new job's input, reporting bytes sent (XHR: fetch has no upload progress). */
export function uploadFile(jobId: string, path: string, file: Blob, onProgress: (sent: number) => void): Promise<{ input: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', `/v1/jobs/${encodeURIComponent(jobId)}/input/${path.split('/').map(encodeURIComponent).join('/')}`);
    xhr.setRequestHeader('x-csrf-token', csrfToken);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      const json = xhr.responseText ? JSON.parse(xhr.responseText) : {};
      if (xhr.status === 201) resolve(json);
      else reject(new ApiError(xhr.status, json));
    };
    xhr.onerror = () => reject(new Error(`upload of ${path} failed: the server did not answer`));
    xhr.send(file);
  });
}
