// Clusters: cards of look-alike photos (representative thumbnails, size); click opens one; type a name to
// label it (autocomplete from existing labels); drag a card onto another to merge; select photos in an
// open cluster and split them off (optionally naming them).
import { useMemo, useState } from 'react';
import type { ClusterInfo } from '../../../src/api/contract/index.ts';
import { call, host } from '../host.ts';
import { useAction, useJobs, JobBar } from '../ui.tsx';
import { fmtCount, useLoad } from '../util.ts';
import { LabelPicker } from './LabelPicker.tsx';
import { PhotoGrid } from './Gallery.tsx';
import { idsSource } from '../sources.ts';

export function ClustersView() {
  const act = useAction();
  const jobs = useJobs();
  const list = useLoad(() => call('learn.clusters', { includeNamed: true }), [], ['clusters.changed', 'labels.changed', 'embeddings.changed']);
  const vision = useLoad(() => call('vision.status', {}), [], ['embeddings.changed', 'library.changed']);
  const [open, setOpen] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [dragId, setDragId] = useState<number | null>(null);
  const [over, setOver] = useState<number | null>(null);

  const recluster = async () => {
    setBusy(true);
    try { await act(() => call('learn.cluster', {}), 'Clusters updated'); list.reload(); } finally { setBusy(false); }
  };
  const clusters = list.data?.clusters ?? [];
  const current = clusters.find((c) => c.id === open);
  const clusterJob = [...jobs.values()].find((j) => j.kind.includes('cluster'));

  if (current) return <ClusterDetail cluster={current} onBack={() => setOpen(null)} />;
  const embedded = vision.data?.embedded ?? 0;
  return (
    <div className="review" data-testid="view-clusters">
      <div className="grid-bar">
        <strong>Clusters</strong>
        {list.data && <span className="muted" data-testid="cluster-count">{fmtCount(clusters.length)} clusters{list.data.unclustered ? `, ${fmtCount(list.data.unclustered)} photos unclustered` : ''}</span>}
        <span className="spacer" />
        <span className="muted">Drag a card onto another to merge them.</span>
        <button onClick={() => void recluster()} disabled={busy || embedded === 0} data-testid="recluster">{busy ? 'Clustering…' : clusters.length ? 'Re-cluster' : 'Find clusters'}</button>
      </div>
      {clusterJob && <div style={{ padding: '8px 16px' }}><JobBar job={clusterJob} /></div>}
      {list.error && <div className="error-box">{list.error}</div>}
      {list.data && clusters.length === 0 && (
        <div className="empty">
          <h2>No clusters yet</h2>
          {embedded === 0
            ? <p>Photos are grouped by what they show once their features are computed (during indexing, when the models are installed).<br />{vision.data ? `${fmtCount(vision.data.pending)} photos are waiting for features.` : ''}</p>
            : <p>{fmtCount(embedded)} photos have features. Find groups of look-alike photos to name them in one go.</p>}
          <button className="primary" onClick={() => void recluster()} disabled={busy || embedded === 0}>Find clusters</button>
        </div>
      )}
      <div className="cards" data-testid="cluster-cards">
        {clusters.map((c) => (
          <ClusterCard key={c.id} c={c} dropTarget={over === c.id && dragId !== c.id}
            onOpen={() => setOpen(c.id)}
            onDragStart={() => setDragId(c.id)}
            onDragEnd={() => { setDragId(null); setOver(null); }}
            onDragOver={() => { if (dragId != null && dragId !== c.id) setOver(c.id); }}
            onDrop={() => {
              if (dragId != null && dragId !== c.id) {
                const from = dragId;
                void act(() => call('learn.mergeClusters', { from, into: c.id }), 'Clusters merged (Ctrl+Z to undo)');
              }
              setDragId(null); setOver(null);
            }}
          />
        ))}
      </div>
    </div>
  );
}

function ClusterCard({ c, dropTarget, onOpen, onDragStart, onDragEnd, onDragOver, onDrop }: {
  c: ClusterInfo; dropTarget: boolean; onOpen: () => void; onDragStart: () => void; onDragEnd: () => void; onDragOver: () => void; onDrop: () => void;
}) {
  const act = useAction();
  const reps = c.representatives.slice(0, 3);
  return (
    <div className={`card${dropTarget ? ' drop-target' : ''}`} draggable data-testid="cluster-card" data-cluster={c.id}
      onDragStart={(e) => { e.dataTransfer.setData('text/x-sift-cluster', String(c.id)); e.dataTransfer.effectAllowed = 'move'; onDragStart(); }}
      onDragEnd={onDragEnd}
      onDragOver={(e) => { e.preventDefault(); onDragOver(); }}
      onDrop={(e) => { e.preventDefault(); onDrop(); }}
      onClick={onOpen}>
      <div className="card-thumbs">
        {reps.map((id) => <img key={id} src={host.thumbUrl(id)} alt="" draggable={false} loading="lazy" />)}
      </div>
      <div className="card-body">
        <div className="card-title">
          {c.label ? <span data-testid="cluster-label">{c.label.name}</span> : <span className="muted">Unnamed</span>}
          <span className="spacer" />
          <span className="chip" data-testid="cluster-size">{fmtCount(c.size)}</span>
        </div>
        <div className="muted" style={{ fontSize: 12 }}>
          {c.unlabeled > 0 && c.label ? `${fmtCount(c.unlabeled)} not yet labelled · ` : ''}cohesion {(c.cohesion * 100).toFixed(0)} %
        </div>
        <div onClick={(e) => e.stopPropagation()}>
          <LabelPicker key={c.label?.name ?? c.suggestedName ?? ''} placeholder={c.label ? 'Rename…' : c.suggestedName ? `Name (e.g. ${c.suggestedName})` : 'Name this cluster…'}
            initial={c.label ? '' : c.suggestedName ?? ''} testid="cluster-name"
            onPick={(name) => void act(() => call('learn.label', { name, clusters: [c.id], photos: [] }), `Named “${name}”`)} />
        </div>
      </div>
    </div>
  );
}

function ClusterDetail({ cluster, onBack }: { cluster: ClusterInfo; onBack: () => void }) {
  const act = useAction();
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const source = useMemo(() => idsSource(async () => (await call('learn.clusterPhotos', { id: cluster.id, limit: 100_000 })).photoIds), [cluster.id, cluster.size]);
  const split = (name?: string) => {
    const photos = [...selected];
    void act(() => call('learn.split', { photos, name }), name ? `Split ${photos.length} photos off as “${name}”` : `Split ${photos.length} photos into a new cluster`)
      .then(() => setSelected(new Set()));
  };
  return (
    <div className="review" data-testid="view-cluster">
      <div className="grid-bar">
        <button className="small" onClick={onBack} data-testid="cluster-back">← Clusters</button>
        <strong>{cluster.label?.name ?? 'Unnamed cluster'}</strong>
        <span className="muted">{fmtCount(cluster.size)} photos</span>
        <span className="spacer" />
        <LabelPicker placeholder={cluster.label ? 'Rename cluster…' : 'Name this cluster…'} testid="cluster-detail-name"
          onPick={(name) => void act(() => call('learn.label', { name, clusters: [cluster.id], photos: [] }), `Named “${name}”`)} />
      </div>
      <PhotoGrid source={source} selected={selected} setSelected={setSelected} testid="cluster-grid"
        extraBar={selected.size > 0 ? (
          <>
            <button className="small" onClick={() => split()} data-testid="split">Split off</button>
            <LabelPicker placeholder="Split off as…" testid="split-name" onPick={(name) => split(name)} />
          </>
        ) : <span className="muted">Select photos (click, Shift, Ctrl/Cmd, or drag a box) to split them off.</span>} />
    </div>
  );
}
