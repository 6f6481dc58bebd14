import type { FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The web console's files, served beside the API by the same process (built by `npm run build`
 * into dist/console; nothing is fetched from elsewhere at run time). Only the shell page and the
 * sign-in script are public: they hold no data and no code that knows the API's answers. The app
 * itself, its styles and every API call need the session (or the bearer token).
 */
const FILES: { url: string; file: string; type: string; public: boolean }[] = [
  { url: '/', file: 'index.html', type: 'text/html; charset=utf-8', public: true },
  { url: '/console/signin.js', file: 'signin.js', type: 'text/javascript; charset=utf-8', public: true },
  { url: '/console/app.js', file: 'app.js', type: 'text/javascript; charset=utf-8', public: false },
  { url: '/console/app.css', file: 'app.css', type: 'text/css; charset=utf-8', public: false },
];

/** Same-origin only: no inline script, no other host (the bundle is self-contained); uPlot sizes its canvases with inline styles. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** Registers the console's routes on `app`; files are read from `dir` once, on first request. */
export function registerConsole(app: FastifyInstance, dir: string): void {
  const cache = new Map<string, Buffer>();
  for (const f of FILES) {
    app.route({
      method: 'GET',
      url: f.url,
      config: { public: f.public },
      handler: async (_req, reply) => {
        let body = cache.get(f.file);
        if (!body) {
          try {
            body = readFileSync(join(dir, f.file));
          } catch {
            return reply.code(503).type('application/json; charset=utf-8').send({ error: `the console is not built (no ${f.file} in ${dir}): run npm run build` });
          }
          cache.set(f.file, body);
        }
        return reply
          .headers({
            'content-security-policy': CSP,
            'x-content-type-options': 'nosniff',
            'referrer-policy': 'no-referrer',
            // The public shell may be cached; what needs a session never is.
            'cache-control': f.public ? 'no-cache' : 'private, no-store',
          })
          .type(f.type)
          .send(body);
      },
    });
  }
}
