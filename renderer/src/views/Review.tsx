export function ReviewView() {
  return (
    <div className="page empty" data-testid="view-review">
      <h2>Review</h2>
      <p className="muted">Suggestions are not available in this engine yet.</p>
    </div>
  );
}
