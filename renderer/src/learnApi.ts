// The learning and export engines' methods, as this UI uses them. Those APIs land while the UI grows:
// the names are kept here, and every view checks has(name) before showing what depends on it.
export const UNDO = { undo: 'learn.undo', redo: 'learn.redo' };
