export function ExportDialog({ onClose }: { onClose: () => void }) {
  return (
    <div className="modal-backdrop" onMouseDown={(e) => { if (e.target === e.currentTarget) onClose(); }}>
      <div className="dialog" role="dialog" aria-label="Export" data-testid="export-dialog">
        <h2>Export</h2>
        <p className="muted">Export is not available in this engine yet.</p>
        <div className="row end"><button onClick={onClose}>Close</button></div>
      </div>
    </div>
  );
}
