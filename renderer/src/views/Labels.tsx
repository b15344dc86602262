// Labels management: rename, merge into another label, delete. Every change is one journal entry of the
// learning engine, so Ctrl/Cmd+Z (learn.undo) or the dialog's Undo button reverts it.
import { useState } from 'react';
import type { ChangeResult, LabelInfo } from '../../../src/api/contract/index.ts';
import { call } from '../host.ts';
import { useAction, useNotify } from '../ui.tsx';
import { fmtCount, useLoad } from '../util.ts';

function LabelRow({ label, others, onChanged }: { label: LabelInfo; others: LabelInfo[]; onChanged: (r: ChangeResult | undefined, text: string) => void }) {
  const act = useAction();
  const [name, setName] = useState(label.name);
  const [into, setInto] = useState('');
  const rename = async () => {
    const n = name.trim();
    if (!n || n === label.name) { setName(label.name); return; }
    onChanged(await act(() => call('learn.renameLabel', { label: label.id, name: n })), `Renamed “${label.name}” to “${n}”`);
  };
  const merge = async () => {
    const target = others.find((o) => String(o.id) === into);
    if (!target) return;
    onChanged(await act(() => call('learn.mergeLabels', { from: label.id, into: target.id })), `Merged “${label.name}” into “${target.name}”`);
    setInto('');
  };
  const del = async () => {
    const n = label.confirmed + label.assigned;
    if (!confirm(`Delete the label “${label.name}”? ${fmtCount(n)} photos lose it (the photos themselves stay). You can undo this.`)) return;
    onChanged(await act(() => call('learn.deleteLabel', { label: label.id })), `Deleted “${label.name}”`);
  };
  return (
    <tr data-testid="label-row" data-label={label.name}>
      <td>
        <form onSubmit={(e) => { e.preventDefault(); void rename(); }} className="row">
          <input value={name} onChange={(e) => setName(e.target.value)} onBlur={() => { if (name.trim() === label.name) setName(label.name); }}
            aria-label={`Name of ${label.name}`} data-testid="label-name" />
          <button type="submit" className="small" disabled={!name.trim() || name.trim() === label.name} data-testid="label-rename">Rename</button>
        </form>
      </td>
      <td className="muted" style={{ whiteSpace: 'nowrap' }}>
        {fmtCount(label.confirmed + label.assigned)} photos{label.suggested ? ` · ${fmtCount(label.suggested)} suggested` : ''}
      </td>
      <td>
        <div className="row">
          <select value={into} onChange={(e) => setInto(e.target.value)} disabled={others.length === 0} aria-label={`Merge ${label.name} into`} data-testid="label-merge-into">
            <option value="">Merge into…</option>
            {others.map((o) => <option key={o.id} value={String(o.id)}>{o.name}</option>)}
          </select>
          <button className="small" disabled={!into} onClick={() => void merge()} data-testid="label-merge">Merge</button>
        </div>
      </td>
      <td><button className="small danger" onClick={() => void del()} data-testid="label-delete">Delete</button></td>
    </tr>
  );
}

export function LabelsDialog({ onClose }: { onClose: () => void }) {
  const labels = useLoad(() => call('learn.labels', {}), [], ['labels.changed', 'clusters.changed']);
  const notify = useNotify();
  const act = useAction();
  const [last, setLast] = useState<string | null>(null);
  const changed = (r: ChangeResult | undefined, text: string) => {
    if (!r) return;
    setLast(text);
    notify({ kind: 'ok', text: `${text}. Ctrl/Cmd+Z undoes it.` });
    labels.reload();
  };
  const undo = async () => {
    const r = await act(() => call('learn.undo', {}));
    if (r) { notify({ kind: 'info', text: r.entry ? `Undone: ${r.entry.summary}` : 'Nothing to undo' }); setLast(null); labels.reload(); }
  };
  const list = labels.data ?? [];
  return (
    <div className="modal-backdrop" onMouseDown={(e) => { if (e.target === e.currentTarget) onClose(); }}>
      <div className="dialog" role="dialog" aria-label="Labels" data-testid="labels-dialog">
        <div className="row"><h2 className="grow">Labels</h2><button className="icon" aria-label="Close" onClick={onClose} data-testid="labels-close">×</button></div>
        <p className="muted" style={{ marginTop: 0 }}>Rename a label, merge it into another (its photos move there) or delete it. Photos are never deleted, and every change can be undone.</p>
        {labels.error && <div className="error-box">Could not load the labels: {labels.error}</div>}
        {labels.data && list.length === 0 && <div className="empty"><p>No labels yet. Name a cluster to create one.</p></div>}
        {list.length > 0 && (
          <table className="labels-table"><tbody>
            {/* key by id + name: a rename or undo resets the row's input */}
            {list.map((l) => <LabelRow key={`${l.id}:${l.name}`} label={l} others={list.filter((o) => o.id !== l.id)} onChanged={changed} />)}
          </tbody></table>
        )}
        <div className="row end" style={{ marginTop: 16 }}>
          {last && <span className="muted grow" style={{ fontSize: 12 }}>{last}</span>}
          <button onClick={() => void undo()} data-testid="labels-undo">Undo</button>
          <button className="primary" onClick={onClose}>Done</button>
        </div>
      </div>
    </div>
  );
}
