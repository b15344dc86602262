// Gallery: a virtualised grid (react-virtuoso) fed page by page, so 100,000 photos scroll smoothly; filters
// and a labels sidebar; selection by click, shift, ctrl/cmd and rubber band; a photo viewer with EXIF.
import { forwardRef, lazy, memo, Suspense, useCallback, useEffect, useMemo, useRef, useState, type HTMLAttributes, type MouseEvent as RMouseEvent, type ReactNode } from 'react';
import { VirtuosoGrid, type VirtuosoGridHandle } from 'react-virtuoso';
import type { LabelInfo, Photo } from '../../../src/api/contract/index.ts';
import { call, host } from '../host.ts';
import { useAction } from '../ui.tsx';
import { basename, fmtBytes, fmtCount, isTyping, useEngineEvent, useLoad } from '../util.ts';
import { photoSource, type Filter, type PhotoSource, filterKey, learnFilters, PAGE } from '../sources.ts';
import { LabelPicker } from './LabelPicker.tsx';
import { afterFirstPaint, firstPageShown, thumbSettled } from '../boot.ts';

const LabelsDialog = lazy(() => import('./Labels.tsx').then((m) => ({ default: m.LabelsDialog })));


/** Pages of a source, loaded on demand, cached by page index. */
export function usePages(source: PhotoSource) {
  const cache = useRef(new Map<number, Photo[]>());
  const inflight = useRef(new Set<number>());
  const [version, setVersion] = useState(0);
  const [count, setCount] = useState<number | null>(null);
  /** Until the count is known: the first page's length (a full page = at least that many). */
  const [provisional, setProvisional] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const gen = useRef(0);
  /** the rows the grid shows now: a reset (label change, undo) refetches them, not only the first page */
  const visible = useRef<[number, number]>([0, 0]);
  const ensureRef = useRef<(start: number, end: number) => void>(() => {});

  const reset = useCallback(() => {
    const g = ++gen.current;
    cache.current = new Map();
    inflight.current = new Set([0]);
    // the first page is fetched together with the count (one round trip less before the first paint)
    source.page(0, PAGE).then((rows) => {
      if (g !== gen.current) return;
      cache.current.set(0, rows);
      inflight.current.delete(0);
      setProvisional(rows.length);
      firstPageShown(rows.length);
      setVersion((v) => v + 1);
    }).catch(() => { inflight.current.delete(0); });
    // the exact count (library.status at 100k: 150-300 ms of engine time) is not needed for the first screen
    afterFirstPaint(() => source.count()).then((n) => { if (g === gen.current) { setCount(n); setError(null); setVersion((v) => v + 1); } })
      .catch((e: Error) => { if (g === gen.current) { setError(e.message); setCount(0); } });
    const [vs, ve] = visible.current;
    if (ve >= PAGE) ensureRef.current(vs, ve);
  }, [source]);
  useEffect(() => { setCount(null); setProvisional(null); reset(); }, [reset]);

  const ensure = useCallback((start: number, end: number) => {
    visible.current = [start, end];
    const g = gen.current;
    for (let p = Math.floor(start / PAGE); p <= Math.floor(end / PAGE); p++) {
      if (cache.current.has(p) || inflight.current.has(p)) continue;
      inflight.current.add(p);
      source.page(p * PAGE, PAGE).then((rows) => {
        if (g !== gen.current) return;
        cache.current.set(p, rows);
        inflight.current.delete(p);
        setVersion((v) => v + 1);
      }).catch((e: Error) => { inflight.current.delete(p); setError(e.message); });
    }
  }, [source]);
  ensureRef.current = ensure;

  const get = useCallback((i: number): Photo | undefined => cache.current.get(Math.floor(i / PAGE))?.[i % PAGE], []);
  /** Photos of [start, end] (loads missing pages). */
  const range = useCallback(async (start: number, end: number): Promise<Photo[]> => {
    const out: Photo[] = [];
    for (let p = Math.floor(start / PAGE); p <= Math.floor(end / PAGE); p++) {
      let rows = cache.current.get(p);
      if (!rows) {
        const g = gen.current;
        rows = await source.page(p * PAGE, PAGE);
        if (g === gen.current) cache.current.set(p, rows);   // a reset meanwhile: do not cache old rows
      }
      for (let k = 0; k < rows.length; k++) { const i = p * PAGE + k; if (i >= start && i <= end) out.push(rows[k]); }
    }
    return out;
  }, [source]);
  /** what the grid shows: the count, or the first page while the count is on its way */
  const shown = count ?? provisional;
  return { count, shown, error, version, ensure, get, range, reset };
}

const Tile = memo(function Tile({ index, photo, selected, onDown, onOpen }: {
  index: number; photo: Photo | undefined; selected: boolean;
  onDown: (e: RMouseEvent, index: number, photo: Photo) => void; onOpen: (index: number) => void;
}) {
  if (!photo) return <div className="tile tile-empty" />;
  const name = basename(photo.path);
  return (
    <div
      className={`tile${selected ? ' selected' : ''}${photo.status !== 'ok' ? ` tile-${photo.status}` : ''}`}
      data-testid="tile" data-pid={photo.id} data-index={index} title={photo.error ? `${name}: ${photo.error}` : photo.warning ? `${name}: ${photo.warning}` : name}
      onMouseDown={(e) => onDown(e, index, photo)} onDoubleClick={() => onOpen(index)}
    >
      {photo.thumbnail ? <img src={host.thumbUrl(photo.id)} alt={name} decoding="async" draggable={false} onLoad={() => thumbSettled(index)} onError={() => thumbSettled(index)} />
        : <div className="tile-missing"><span>{photo.status === 'failed' ? '⚠' : '…'}</span><small>{name}</small></div>}
      {photo.status === 'failed' && <div className="tile-badge warn">failed</div>}
      {photo.warning && <div className="tile-badge warn" title={photo.warning}>damaged</div>}
    </div>
  );
});

/** Shown instead of tiles while the grid is flung fast (react-virtuoso scroll seek): no thumbnail requests. */
function SeekPlaceholder() {
  return <div className="grid-item"><div className="tile tile-empty" /></div>;
}
const scrollSeek = {
  enter: (velocity: number) => Math.abs(velocity) > 1500,
  exit: (velocity: number) => Math.abs(velocity) < 200,
};

const GridList = forwardRef<HTMLDivElement, HTMLAttributes<HTMLDivElement> & { children?: ReactNode }>(function GridList(props, ref) {
  return <div {...props} ref={ref} className="grid-list" />;
});

export function PhotoGrid({ source, selected, setSelected, extraBar, testid = 'grid' }: {
  source: PhotoSource; selected: Set<number>; setSelected: (s: Set<number>) => void; extraBar?: ReactNode; testid?: string;
}) {
  const pages = usePages(source);
  const [anchor, setAnchor] = useState<number | null>(null);
  const [viewer, setViewer] = useState<number | null>(null);
  const [band, setBand] = useState<{ x0: number; y0: number; x1: number; y1: number } | null>(null);
  const wrap = useRef<HTMLDivElement>(null);
  const grid = useRef<VirtuosoGridHandle>(null);
  useEngineEvent((e) => { if (e.type === 'library.changed' || e.type === 'labels.changed') pages.reset(); });
  // Tiles fill the width: as many ~164 px columns as fit, stretched to the row.
  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(() => {
      const w = el.clientWidth - 24 - 12; // list padding, scrollbar
      const cols = Math.max(1, Math.floor(w / 164));
      el.style.setProperty('--tile', `${Math.floor(w / cols)}px`);
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const onDown = useCallback((e: RMouseEvent, index: number, photo: Photo) => {
    if (e.button !== 0) return;
    e.stopPropagation();
    if (e.shiftKey && anchor != null) {
      const [a, b] = anchor < index ? [anchor, index] : [index, anchor];
      void pages.range(a, b).then((ps) => {
        const s = e.ctrlKey || e.metaKey ? new Set(selected) : new Set<number>();
        for (const p of ps) s.add(p.id);
        setSelected(s);
      });
      return;
    }
    if (e.ctrlKey || e.metaKey) {
      const s = new Set(selected);
      if (s.has(photo.id)) s.delete(photo.id); else s.add(photo.id);
      setSelected(s);
    } else {
      setSelected(new Set([photo.id]));
    }
    setAnchor(index);
  }, [anchor, selected, setSelected, pages]);

  // Rubber band: drag on the grid's background.
  const onBandStart = (e: RMouseEvent) => {
    if (e.button !== 0 || (e.target as HTMLElement).closest('.tile')) return;
    const base = e.ctrlKey || e.metaKey || e.shiftKey ? new Set(selected) : new Set<number>();
    const x0 = e.clientX; const y0 = e.clientY;
    setBand({ x0, y0, x1: x0, y1: y0 });
    const move = (m: MouseEvent) => {
      setBand({ x0, y0, x1: m.clientX, y1: m.clientY });
      const l = Math.min(x0, m.clientX); const r = Math.max(x0, m.clientX);
      const t = Math.min(y0, m.clientY); const b = Math.max(y0, m.clientY);
      const s = new Set(base);
      wrap.current?.querySelectorAll<HTMLElement>('[data-pid]').forEach((el) => {
        const rc = el.getBoundingClientRect();
        if (rc.right >= l && rc.left <= r && rc.bottom >= t && rc.top <= b) s.add(Number(el.dataset.pid));
      });
      setSelected(s);
    };
    const up = () => { setBand(null); window.removeEventListener('mousemove', move); window.removeEventListener('mouseup', up); };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
    e.preventDefault();
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e) || viewer != null) return;
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'a' && pages.count) {
        e.preventDefault();
        void pages.range(0, pages.count - 1).then((ps) => setSelected(new Set(ps.map((p) => p.id))));
      } else if (e.key === 'Escape') setSelected(new Set());
      else if (e.key === 'Enter' && anchor != null) setViewer(anchor);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [pages, anchor, viewer, setSelected]);

  const itemContent = useCallback((index: number) => {
    const p = pages.get(index);
    return <Tile index={index} photo={p} selected={!!p && selected.has(p.id)} onDown={onDown} onOpen={setViewer} />;
    // pages.version drives re-render of loaded pages
  }, [pages, selected, onDown, pages.version]);

  return (
    <div className="grid-wrap" ref={wrap} onMouseDown={onBandStart} data-testid={testid}>
      <div className="grid-bar">
        <span className="muted" data-testid="grid-count">{pages.count == null ? 'Loading…' : `${fmtCount(pages.count)} photos`}</span>
        {selected.size > 0 && <span className="chip" data-testid="selection-count">{fmtCount(selected.size)} selected</span>}
        {selected.size > 0 && <button className="small" onClick={() => setSelected(new Set())}>Clear</button>}
        <span className="spacer" />
        {extraBar}
      </div>
      {pages.error && <div className="error-box">Could not load photos: {pages.error}</div>}
      {pages.count === 0 && !pages.error && <div className="empty"><p>No photos here.</p></div>}
      {!!pages.shown && (
        <VirtuosoGrid
          ref={grid}
          className="grid"
          totalCount={pages.shown}
          overscan={200}
          components={{ List: GridList, ScrollSeekPlaceholder: SeekPlaceholder }}
          scrollSeekConfiguration={scrollSeek}
          itemClassName="grid-item"
          rangeChanged={({ startIndex, endIndex }) => pages.ensure(startIndex, endIndex)}
          itemContent={itemContent}
          computeItemKey={(i) => i}
        />
      )}
      {band && (
        <div className="band" style={{
          left: Math.min(band.x0, band.x1), top: Math.min(band.y0, band.y1),
          width: Math.abs(band.x1 - band.x0), height: Math.abs(band.y1 - band.y0),
        }} />
      )}
      {viewer != null && pages.count != null && (
        <Viewer index={viewer} count={pages.count} get={(i) => pages.range(i, i).then((r) => r[0])} onIndex={setViewer} onClose={() => setViewer(null)} />
      )}
    </div>
  );
}

function Viewer({ index, count, get, onIndex, onClose }: {
  index: number; count: number; get: (i: number) => Promise<Photo | undefined>; onIndex: (i: number) => void; onClose: () => void;
}) {
  const [photo, setPhoto] = useState<Photo>();
  const [broken, setBroken] = useState(false);
  useEffect(() => { let live = true; setBroken(false); void get(index).then((p) => { if (live) setPhoto(p); }); return () => { live = false; }; }, [index, get]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
      else if (e.key === 'ArrowRight' && index < count - 1) onIndex(index + 1);
      else if (e.key === 'ArrowLeft' && index > 0) onIndex(index - 1);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [index, count, onIndex, onClose]);
  const rows: [string, ReactNode][] = photo ? [
    ['File', <code key="f">{photo.path}</code>],
    ['Taken', photo.takenAt ?? '—'],
    ['Camera', photo.camera ? [photo.camera.make, photo.camera.model].filter(Boolean).join(' ') || '—' : '—'],
    ['Size', photo.width && photo.height ? `${photo.width} × ${photo.height} px, ${fmtBytes(photo.size)}` : fmtBytes(photo.size)],
    ['Format', photo.format ?? '—'],
    ['Orientation', photo.orientation ?? '—'],
    ['GPS', photo.gps ? `${photo.gps.lat.toFixed(5)}, ${photo.gps.lon.toFixed(5)}` : '—'],
    ['Status', photo.status + (photo.duplicateOf ? ` (duplicate of #${photo.duplicateOf})` : '')],
  ] : [];
  return (
    <div className="modal-backdrop" onMouseDown={(e) => { e.stopPropagation(); if (e.target === e.currentTarget) onClose(); }}>
      <div className="viewer" role="dialog" aria-label="Photo viewer" data-testid="viewer">
        <div className="viewer-img">
          {photo && !broken && <img src={host.photoUrl(photo.id)} alt={basename(photo.path)} onError={() => setBroken(true)} />}
          {photo && broken && photo.thumbnail && <img src={host.thumbUrl(photo.id)} alt={basename(photo.path)} />}
          {photo?.error && <div className="error-box">Could not read <code>{photo.path}</code>: {photo.error}</div>}
          {photo?.warning && <div className="error-box"><code>{photo.path}</code>: {photo.warning}</div>}
        </div>
        <aside className="viewer-info">
          <div className="row"><strong className="grow">{photo ? basename(photo.path) : '…'}</strong><button className="icon" onClick={onClose} aria-label="Close">×</button></div>
          <div className="muted">{index + 1} of {fmtCount(count)} · ← → to browse</div>
          <table className="exif" data-testid="exif"><tbody>{rows.map(([k, v]) => <tr key={k}><th>{k}</th><td>{v}</td></tr>)}</tbody></table>
          {photo && <PhotoLabels photo={photo} />}
        </aside>
      </div>
    </div>
  );
}

function PhotoLabels({ photo }: { photo: Photo }) {
  const act = useAction();
  if (!learnFilters.canLabel()) return null;
  return (
    <div className="photo-labels">
      <h4>Label this photo</h4>
      <LabelPicker placeholder="Label…" onPick={(name) => void act(() => learnFilters.labelPhotos([photo.id], name), `Labelled “${name}”`)} />
    </div>
  );
}

export function GalleryView() {
  const [filter, setFilter] = useState<Filter>({ kind: 'all' });
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [managing, setManaging] = useState(false);
  const act = useAction();
  const status = useLoad(() => afterFirstPaint(() => call('library.status', {})), [], ['library.changed']);
  const labels = useLoad(() => afterFirstPaint(() => call('learn.labels', {})), [], ['labels.changed', 'clusters.changed']);
  // the unlabeled total is one indexed count; the suggested one runs the model, so it is not asked for here
  const unlabeled = useLoad(() => afterFirstPaint(() => call('learn.photos', { filter: 'unlabeled', offset: 0, limit: 1 })), [], ['labels.changed', 'library.changed']);
  const source = useMemo(() => photoSource(filter), [filterKey(filter)]);
  useEffect(() => setSelected(new Set()), [source]);
  const s = status.data;
  const item = (f: Filter, text: string, n: number | null, enabled = true, testid?: string) => (
    <button key={filterKey(f)} className={`side-item${filterKey(f) === filterKey(filter) ? ' active' : ''}`} disabled={!enabled}
      title={enabled ? undefined : 'Needs the learning engine'} onClick={() => setFilter(f)} data-testid={testid}>
      <span className="grow">{text}</span>{n != null && <span className="count">{fmtCount(n)}</span>}
    </button>
  );
  return (
    <div className="split" data-testid="view-gallery">
      <aside className="sidebar">
        <div className="side-title">Photos</div>
        {item({ kind: 'all' }, 'All photos', s?.photos ?? null, true, 'filter-all')}
        {item({ kind: 'unlabeled' }, 'Unlabeled', unlabeled.data?.total ?? null, learnFilters.has('unlabeled'), 'filter-unlabeled')}
        {item({ kind: 'suggested' }, 'Suggested', null, learnFilters.has('suggested'), 'filter-suggested')}
        {item({ kind: 'failed' }, 'Failed', s?.failed ?? null, true, 'filter-failed')}
        <div className="side-title with-action">Labels
          {!!labels.data?.length && <button className="small" onClick={() => setManaging(true)} data-testid="manage-labels" title="Rename, merge or delete labels">Manage…</button>}
        </div>
        {labels.data?.length === 0 && <div className="side-empty muted">No labels yet. Name a cluster to create one.</div>}
        {labels.data?.map((l: LabelInfo) => item({ kind: 'label', id: l.id, name: l.name }, l.name, l.confirmed + l.assigned, learnFilters.has('label'), `filter-label-${l.name}`))}
      </aside>
      <PhotoGrid
        source={source} selected={selected} setSelected={setSelected}
        extraBar={selected.size > 0 && learnFilters.canLabel() ? (
          <LabelPicker placeholder="Label selection…" testid="label-selection"
            onPick={(name) => void act(() => learnFilters.labelPhotos([...selected], name), `Labelled ${selected.size} photos “${name}”`)} />
        ) : null}
      />
      {managing && <Suspense fallback={null}><LabelsDialog onClose={() => setManaging(false)} /></Suspense>}
    </div>
  );
}
