export function ClustersView() {
  return (
    <div className="page empty" data-testid="view-clusters">
      <h2>Clusters</h2>
      <p className="muted">Clustering is not available in this engine yet.</p>
    </div>
  );
}
