// The renderer's only way to the engine: window.sift (a SiftHost). Electron's preload provides it; in the
// web test host we build one here over HTTP POST /api/call and the WebSocket /api/events, authenticated
// by the token the page was opened with (?token=).
import type { Input, MethodName, Output, SiftEvent, SiftHost } from '../../src/api/contract/index.ts';

declare global {
  interface Window { sift?: SiftHost }
}

/** An API error as the renderer shows it. */
export class CallError extends Error {
  constructor(message: string, readonly code: string, readonly method: string) {
    super(message);
    this.name = 'CallError';
  }
}

function webHost(): SiftHost {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const listeners = new Set<(e: SiftEvent) => void>();
  let ws: WebSocket | null = null;
  let retry = 250;
  const connect = () => {
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    ws = new WebSocket(`${proto}://${location.host}/api/events?token=${encodeURIComponent(token)}`);
    ws.onopen = () => { retry = 250; };
    ws.onmessage = (m) => {
      let e: SiftEvent;
      try { e = JSON.parse(String(m.data)) as SiftEvent; } catch { return; }
      for (const l of listeners) l(e);
    };
    ws.onclose = () => { ws = null; setTimeout(connect, retry); retry = Math.min(retry * 2, 5000); };
  };
  connect();
  const q = `?token=${encodeURIComponent(token)}`;
  return {
    kind: 'web',
    async call<K extends MethodName>(name: K, input: Input<K>): Promise<Output<K>> {
      const res = await fetch('/api/call', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-sift-token': token },
        body: JSON.stringify({ name, input: input ?? {} }),
      });
      let body: { ok: boolean; result?: unknown; error?: string; code?: string };
      try { body = await res.json(); } catch { throw new CallError(`${name}: HTTP ${res.status}`, 'internal', name); }
      if (!body.ok) throw new CallError(body.error ?? `HTTP ${res.status}`, body.code ?? 'internal', name);
      return body.result as Output<K>;
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => { listeners.delete(listener); };
    },
    thumbUrl: (id) => `/thumb/${id}${q}`,
    photoUrl: (id) => `/photo/${id}${q}`,
    pickFolder: async () => null,
  };
}

/** The host; on the web host it is also put at window.sift, as in Electron (the e2e tests call the API through it). */
export const host: SiftHost = window.sift ?? (window.sift = webHost());

/**
 * Calls the engine. Read calls that several views make when the app opens (library.status...) share one
 * request, and their answer is reused for 2 s or until the engine announces a change (any non-progress
 * event), whichever comes first.
 */
const shared = new Map<string, { at: number; p: Promise<unknown> }>();
const SHARED = new Set(['library.status', 'learn.labels', 'jobs.list', 'vision.status', 'learn.clusters']);
host.onEvent((e) => { if (e.type !== 'job.progress') shared.clear(); });
export const call: SiftHost['call'] = (name, input) => {
  if (!SHARED.has(name)) return host.call(name, input);
  const key = `${name}:${JSON.stringify(input ?? {})}`;
  const hit = shared.get(key);
  if (hit && performance.now() - hit.at < 2000) return hit.p as ReturnType<SiftHost['call']>;
  const p = host.call(name, input);
  const entry = { at: performance.now(), p };
  shared.set(key, entry);
  p.catch(() => { if (shared.get(key) === entry) shared.delete(key); });
  return p;
};
