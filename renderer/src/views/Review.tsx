// Review queue, keyboard-driven: Y confirms the suggestion, N rejects it, 1-9 pick a label, U undoes,
// arrows move. "Confirm all shown" confirms every suggestion on screen (per label) in one go.
import { useCallback, useEffect, useState } from 'react';
import type { LabelInfo, Suggestion } from '../../../src/api/contract/index.ts';
import { call, host } from '../host.ts';
import { useAction } from '../ui.tsx';
import { fmtCount, isTyping, useLoad } from '../util.ts';

const SHOWN = 40;

export function ReviewView() {
  const act = useAction();
  const [forLabel, setForLabel] = useState<number | null>(null);
  const [pos, setPos] = useState(0);
  const [busy, setBusy] = useState(false);
  const labels = useLoad(() => call('learn.labels', {}), [], ['labels.changed']);
  const queue = useLoad(() => call('learn.suggestions', forLabel == null ? { limit: SHOWN } : { label: forLabel, limit: SHOWN }),
    [forLabel], ['labels.changed', 'clusters.changed', 'embeddings.changed']);
  const items = queue.data?.items ?? [];
  const item: Suggestion | undefined = items[Math.max(0, Math.min(pos, items.length - 1))];
  const labelList: LabelInfo[] = labels.data ?? [];
  useEffect(() => { if (pos >= items.length && items.length) setPos(items.length - 1); }, [items.length, pos]);

  const run = useCallback(async (fn: () => Promise<unknown>, text?: string) => {
    if (busy) return;
    setBusy(true);
    try { await act(fn, text); queue.reload(); labels.reload(); } finally { setBusy(false); }
  }, [act, busy, queue, labels]);

  const confirm = useCallback((labelId: number | null, name?: string) => {
    if (!item) return;
    const label = labelId ?? name;
    if (label == null) return;
    void run(() => call('learn.confirm', { label, photos: [item.photoId] }));
  }, [item, run]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      const k = e.key.toLowerCase();
      if (k === 'y' && item?.label) confirm(item.labelId, item.label);
      else if (k === 'n' && item?.label) void run(() => call('learn.reject', { label: item.labelId ?? item.label!, photos: [item.photoId] }));
      else if (k === 'u') void run(() => call('learn.undo', {}), 'Undone');
      else if (/^[1-9]$/.test(k) && labelList[Number(k) - 1]) confirm(labelList[Number(k) - 1].id);
      else if (k === 'arrowright' || k === 'j') setPos((p) => Math.max(0, Math.min(items.length - 1, p + 1)));
      else if (k === 'arrowleft' || k === 'k') setPos((p) => Math.max(0, p - 1));
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [item, items.length, labelList, confirm, run]);

  const confirmAll = () => {
    const byLabel = new Map<number | string, number[]>();
    for (const s of items) if (s.label) {
      const key = s.labelId ?? s.label;
      byLabel.set(key, [...(byLabel.get(key) ?? []), s.photoId]);
    }
    const n = [...byLabel.values()].reduce((a, b) => a + b.length, 0);
    void run(async () => { for (const [label, photos] of byLabel) await call('learn.confirm', { label, photos }); }, `Confirmed ${n} photos`);
  };

  return (
    <div className="review" data-testid="view-review">
      <div className="grid-bar">
        <strong>Review</strong>
        <select value={forLabel ?? ''} onChange={(e) => { setForLabel(e.target.value ? Number(e.target.value) : null); setPos(0); }} aria-label="Suggestions for" data-testid="review-for">
          <option value="">Most informative first</option>
          {labelList.map((l) => <option key={l.id} value={l.id}>Suggested as {l.name} ({fmtCount(l.suggested)})</option>)}
        </select>
        {queue.data && <span className="muted" data-testid="review-total">{fmtCount(queue.data.total)} to review</span>}
        <span className="spacer" />
        <button onClick={confirmAll} disabled={busy || !items.some((s) => s.label)} data-testid="confirm-all">Confirm all {items.filter((s) => s.label).length} shown</button>
      </div>
      {queue.error && <div className="error-box">{queue.error}</div>}
      {queue.data && items.length === 0 && (
        <div className="empty"><h2>Nothing to review</h2>
          <p>{labelList.length === 0 ? 'Name a cluster first: Sift then suggests labels for the other photos.' : 'Every suggestion has been reviewed. New ones come as you label more photos.'}</p></div>
      )}
      {item && (
        <>
          <div className="review-main">
            <div className="review-photo"><img src={host.photoUrl(item.photoId)} alt="" onError={(e) => { (e.target as HTMLImageElement).src = host.thumbUrl(item.photoId); }} /></div>
            <div className="review-side">
              <div className="muted">{pos + 1} of {fmtCount(items.length)} shown · {reasonText[item.reason]}</div>
              <div className="suggestion" data-testid="review-suggestion">{item.label ?? 'Unknown'}</div>
              <div className="muted">confidence {(item.confidence * 100).toFixed(0)} %{item.current ? ` · now “${item.current.label}” (${item.current.state})` : ' · no label yet'}</div>
              <div className="row">
                <button className="primary" disabled={busy || !item.label} onClick={() => confirm(item.labelId, item.label ?? undefined)} data-testid="review-yes">Yes <kbd>Y</kbd></button>
                <button disabled={busy || !item.label} onClick={() => void run(() => call('learn.reject', { label: item.labelId ?? item.label!, photos: [item.photoId] }))} data-testid="review-no">No <kbd>N</kbd></button>
                <button disabled={busy} onClick={() => void run(() => call('learn.undo', {}), 'Undone')}>Undo <kbd>U</kbd></button>
              </div>
              <h4>Or pick the right label</h4>
              <div className="keys">
                {labelList.slice(0, 9).map((l, i) => (
                  <button key={l.id} className="side-item" style={{ gridColumn: 'span 2' }} onClick={() => confirm(l.id)} disabled={busy} data-testid={`review-pick-${l.name}`}>
                    <kbd>{i + 1}</kbd><span className="grow">{l.name}</span><span className="count">{fmtCount(l.confirmed + l.assigned)}</span>
                  </button>
                ))}
              </div>
              <p className="muted" style={{ fontSize: 12 }}><kbd>←</kbd> <kbd>→</kbd> move · <kbd>Ctrl</kbd>+<kbd>Z</kbd> undo anywhere</p>
            </div>
          </div>
          <div className="strip">
            {items.map((s, i) => <img key={s.photoId} src={host.thumbUrl(s.photoId)} alt="" className={i === pos ? 'current' : ''} onClick={() => setPos(i)} title={s.label ?? 'unknown'} />)}
          </div>
        </>
      )}
    </div>
  );
}

const reasonText: Record<Suggestion['reason'], string> = {
  disagrees: 'the model disagrees with the current label',
  uncertain: 'the model is unsure',
  border: 'at the edge of its cluster',
  unlabeled: 'not labelled yet',
  confident: 'confident suggestion',
};
