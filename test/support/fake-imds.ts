import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake EC2 instance metadata service (IMDSv2) on 127.0.0.1: tokens from `PUT /latest/api/token`,
 * and the two spot paths, 404 until a test announces a notice.
 */
export interface FakeImds {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** Every request, as `METHOD path`. */
  requests: string[];
  /** Tokens handed out. */
  tokens: string[];
  /** From now on instance-action answers `{ action, time }`. */
  interrupt(time: Date, action?: string): void;
  /** From now on the rebalance path answers `{ noticeTime }`. */
  recommendRebalance(noticeTime: Date): void;
  /** Refuses every token handed out so far (as after a restart of the service). */
  forgetTokens(): void;
  close(): Promise<void>;
}

export async function startFakeImds(): Promise<FakeImds> {
  const requests: string[] = [];
  const tokens: string[] = [];
  const valid = new Set<string>();
  let action: string | undefined;
  let rebalance: string | undefined;
  const answer = (res: ServerResponse, status: number, body = '') => res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.url === '/latest/api/token') {
      if (req.method !== 'PUT' || !req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return answer(res, 400);
      const token = `token-${tokens.length + 1}`;
      tokens.push(token);
      valid.add(token);
      return answer(res, 200, token);
    }
    if (req.method !== 'GET') return answer(res, 405);
    if (!valid.has(String(req.headers['x-aws-ec2-metadata-token']))) return answer(res, 401);
    if (req.url === '/latest/meta-data/spot/instance-action') return action === undefined ? answer(res, 404) : answer(res, 200, action);
    if (req.url === '/latest/meta-data/events/recommendations/rebalance') return rebalance === undefined ? answer(res, 404) : answer(res, 200, rebalance);
    return answer(res, 404);
  };
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    tokens,
    interrupt: (time, a = 'terminate') => void (action = JSON.stringify({ action: a, time: time.toISOString().replace(/\.\d{3}Z$/, 'Z') })),
    recommendRebalance: (t) => void (rebalance = JSON.stringify({ noticeTime: t.toISOString().replace(/\.\d{3}Z$/, 'Z') })),
    forgetTokens: () => valid.clear(),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
