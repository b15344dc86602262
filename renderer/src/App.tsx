// The app shell: top bar (views, running jobs, undo/redo, export, theme), the current view, notifications.
import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import type { IndexSummary } from '../../src/api/contract/index.ts';
import { call } from './host.ts';
import { NotesProvider, JobBar, useJobs, useAction, useNotify } from './ui.tsx';
import { useLoad, isTyping } from './util.ts';
import { afterFirstPaint } from './boot.ts';
import { GalleryView } from './views/Gallery.tsx';

// Views other than the gallery are separate chunks, loaded when first shown: the gallery's first paint parses
// only what it needs.
const AddFolder = lazy(() => import('./views/Library.tsx').then((m) => ({ default: m.AddFolder })));
const LibraryView = lazy(() => import('./views/Library.tsx').then((m) => ({ default: m.LibraryView })));
const ClustersView = lazy(() => import('./views/Clusters.tsx').then((m) => ({ default: m.ClustersView })));
const ReviewView = lazy(() => import('./views/Review.tsx').then((m) => ({ default: m.ReviewView })));
const ExportDialog = lazy(() => import('./views/Export.tsx').then((m) => ({ default: m.ExportDialog })));

type View = 'clusters' | 'gallery' | 'review' | 'library';
const VIEWS: View[] = ['clusters', 'gallery', 'review', 'library'];
type Theme = 'light' | 'dark';

function initialTheme(): Theme {
  const saved = localStorage.getItem('sift.theme');
  if (saved === 'light' || saved === 'dark') return saved;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function App() {
  return <NotesProvider><Shell /></NotesProvider>;
}

function Shell() {
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const [view, setView] = useState<View | null>(() => {
    const v = new URLSearchParams(location.search).get('view');
    return VIEWS.includes(v as View) ? (v as View) : null;
  });
  const [exporting, setExporting] = useState(false);
  const status = useLoad(() => afterFirstPaint(() => call('library.status', {})), [], ['library.changed']);
  const jobs = useJobs();
  const act = useAction();
  const notify = useNotify();

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('sift.theme', theme);
  }, [theme]);

  const isEmpty = status.data != null && status.data.photos === 0 && status.data.roots.length === 0;
  // The welcome page stays until its first index finishes (adding the folder already makes the library non-empty).
  const [welcome, setWelcome] = useState(false);
  useEffect(() => { if (isEmpty) setWelcome(true); }, [isEmpty]);
  const empty = isEmpty || welcome;
  const firstIndexDone = async (s: IndexSummary) => {
    // First run: go straight on to clusters when the photos got their features.
    const embedded = s.stages?.some((st) => st.done > 0);
    if (embedded) {
      await act(() => call('learn.cluster', {}));
    }
    setWelcome(false);
    status.reload();
    setView(embedded ? 'clusters' : 'gallery');
  };
  const current: View = view ?? 'clusters';

  const undo = useCallback((redo: boolean) => {
    void act(async () => {
      const r = await call(redo ? 'learn.redo' : 'learn.undo', {});
      notify({ kind: 'info', text: r.entry ? `${redo ? 'Redone' : 'Undone'}: ${r.entry.summary}` : `Nothing to ${redo ? 'redo' : 'undo'}` });
    });
  }, [act, notify]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e)) return;
      const mod = e.ctrlKey || e.metaKey;
      if (mod && e.key.toLowerCase() === 'z') { e.preventDefault(); undo(e.shiftKey); }
      else if (mod && e.key.toLowerCase() === 'y') { e.preventDefault(); undo(true); }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [undo]);

  const tab = (v: View, text: string) => (
    <button className={`tab${current === v ? ' active' : ''}`} onClick={() => setView(v)} data-testid={`tab-${v}`}>{text}</button>
  );
  const running = [...jobs.values()];

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand"><span className="logo" aria-hidden>◐</span> Sift</div>
        {!empty && <nav className="tabs">
          {tab('clusters', 'Clusters')}
          {tab('gallery', 'Gallery')}
          {tab('review', 'Review')}
          {tab('library', 'Library')}
        </nav>}
        <span className="spacer" />
        {running.length > 0 && <div className="topjobs">{running.slice(0, 1).map((j) => <JobBar key={j.jobId} job={j} />)}</div>}
        <button className="icon" title="Undo (Ctrl/Cmd+Z)" aria-label="Undo" onClick={() => undo(false)}>↶</button>
        <button className="icon" title="Redo (Ctrl/Cmd+Shift+Z)" aria-label="Redo" onClick={() => undo(true)}>↷</button>
        {!empty && <button onClick={() => setExporting(true)} data-testid="open-export">Export…</button>}
        <button className="icon" aria-label="Toggle theme" title="Light / dark theme" data-testid="theme-toggle"
          onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}>{theme === 'dark' ? '☀' : '☾'}</button>
      </header>
      <main className="content">
        {status.error && <div className="error-box">The engine is not answering: {status.error}</div>}
        {empty ? (
          <div className="welcome" data-testid="view-welcome">
            <h1>Welcome to Sift</h1>
            <p className="muted">Sift sorts your photos by what is in them, on this computer only. Start with a folder: your files are never moved or changed.</p>
            <Suspense fallback={null}><AddFolder onIndexed={(s) => void firstIndexDone(s)} /></Suspense>
          </div>
        ) : status.data == null && view == null ? null : (
          // a view named in the URL (?view=gallery) renders at once: its data loads alongside the status
          <Suspense fallback={<div className="empty muted">Loading…</div>}>
            {current === 'clusters' && <ClustersView />}
            {current === 'gallery' && <GalleryView />}
            {current === 'review' && <ReviewView />}
            {current === 'library' && <LibraryView status={status.data} reload={status.reload} />}
          </Suspense>
        )}
      </main>
      {exporting && <Suspense fallback={null}><ExportDialog onClose={() => setExporting(false)} /></Suspense>}
    </div>
  );
}
