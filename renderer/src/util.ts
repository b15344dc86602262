// Small shared helpers for the views.
import { useEffect, useRef, useState } from 'react';
import type { SiftEvent } from '../../src/api/contract/index.ts';
import { host } from './host.ts';

/** Subscribes to engine events for the component's lifetime. */
export function useEngineEvent(fn: (e: SiftEvent) => void): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => host.onEvent((e) => ref.current(e)), []);
}

/** Re-runs `load` on mount, when deps change, and when one of the given event types arrives. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], events: SiftEvent['type'][] = []): {
  data: T | undefined; error: string | null; reload: () => void; loading: boolean;
} {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load().then((d) => { if (live) { setData(d); setError(null); } })
      .catch((e: Error) => { if (live) setError(e.message); })
      .finally(() => { if (live) setLoading(false); });
    return () => { live = false; };
  }, [...deps, tick]);
  useEngineEvent((e) => { if (events.includes(e.type)) setTick((t) => t + 1); });
  return { data, error, reload: () => setTick((t) => t + 1), loading };
}

export function fmtCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function fmtDuration(s: number | null | undefined): string {
  if (s == null || !Number.isFinite(s)) return '—';
  if (s < 1) return '<1 s';
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export function basename(p: string): string {
  const i = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return i >= 0 ? p.slice(i + 1) : p;
}

export function newJobId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export function isTyping(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  return !!t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable);
}
