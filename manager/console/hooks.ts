import { useEffect, useRef, useState } from 'preact/hooks';

/** How often live pages ask the API again, ms: a sane rate for a person watching (and for the server). */
export const POLL_MS = 2000;

export interface Polled<T> {
  data?: T;
  error?: Error;
  /** Ask again now (after an action). */
  refresh(): void;
}

/**
 * Loads `load()` now and again every `intervalMs` while `live` (and the tab is visible), without
 * reloading the page; a change of `key` starts over. A slow answer is never overtaken by an older one.
 */
export function usePoll<T>(load: () => Promise<T>, key: string, options: { intervalMs?: number; live?: boolean } = {}): Polled<T> {
  const [state, setState] = useState<{ key: string; data?: T; error?: Error }>({ key });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const live = options.live ?? true;
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        const data = await loadRef.current();
        if (!stopped) setState({ key, data });
      } catch (err) {
        if (!stopped) setState((s) => ({ ...s, key, error: err as Error }));
      }
      // A hidden tab asks five times less often.
      if (!stopped && live) timer = setTimeout(() => void run(), (options.intervalMs ?? POLL_MS) * (document.hidden ? 5 : 1));
    };
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [key, live, tick]);
  const current = state.key === key ? state : { key };
  return { data: current.data, error: current.error, refresh: () => setTick((t) => t + 1) };
}

/** The location hash as a route: `#/jobs/abc?stage=x` → ['jobs', 'abc'] and its query. */
export function useRoute(): { path: string[]; query: URLSearchParams } {
  const read = () => {
    const [p = '', q = ''] = location.hash.replace(/^#\/?/, '').split('?');
    return { path: p.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(q) };
  };
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

/** Sets the hash route (adds a history entry, so Back works). */
export function go(path: string, query?: Record<string, string | undefined>): void {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v) q.set(k, v);
  const s = q.toString();
  location.hash = `#/${path}${s ? `?${s}` : ''}`;
}
