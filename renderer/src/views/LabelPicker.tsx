// Type a label name with autocomplete from the existing labels; Enter picks it (new names create a label).
import { useId, useState } from 'react';
import { call } from '../host.ts';
import { useLoad } from '../util.ts';

export function LabelPicker({ onPick, placeholder = 'Name…', testid, initial = '', autoFocus }: {
  onPick: (name: string) => void; placeholder?: string; testid?: string; initial?: string; autoFocus?: boolean;
}) {
  const [text, setText] = useState(initial);
  const listId = useId();
  const labels = useLoad(() => call('learn.labels', {}), [], ['labels.changed']);
  return (
    <form className="labelpicker" onSubmit={(e) => { e.preventDefault(); const n = text.trim(); if (n) { onPick(n); setText(''); } }}
      onMouseDown={(e) => e.stopPropagation()}>
      <input list={listId} value={text} placeholder={placeholder} aria-label={placeholder} data-testid={testid}
        autoFocus={autoFocus} onChange={(e) => setText(e.target.value)} />
      <datalist id={listId}>{labels.data?.map((l) => <option key={l.id} value={l.name} />)}</datalist>
      <button type="submit" className="small primary" disabled={!text.trim()}>Apply</button>
    </form>
  );
}
