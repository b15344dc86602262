// File and folder names of an export: the folder template, sanitising, case-insensitive collision keys.
import path from 'node:path';

export const TEMPLATE_TOKENS = ['label', 'yyyy', 'mm', 'dd', 'camera', 'name', 'ext'] as const;
export type TemplateToken = typeof TEMPLATE_TOKENS[number];

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
const MAX_NAME_BYTES = 240; // leaves room for " (123)" and sidecar suffixes under the usual 255-byte limit

/** Checks a template; returns an error message or null. */
export function templateError(template: string): string | null {
  if (!template.trim()) return 'the template is empty';
  for (const m of template.matchAll(/\{([^}]*)\}/g)) {
    if (!(TEMPLATE_TOKENS as readonly string[]).includes(m[1])) {
      return `unknown template token {${m[1]}} (known: ${TEMPLATE_TOKENS.map((t) => `{${t}}`).join(' ')})`;
    }
  }
  if (/[{}]/.test(template.replace(/\{[^}]*\}/g, ''))) return 'unbalanced { } in the template';
  return null;
}

/** Makes one path segment safe on Linux, macOS and Windows. Never returns '', '.', '..' or a reserved name. */
export function sanitizeSegment(s: string): string {
  let out = s.normalize('NFC')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .replace(/[/\\:*?"<>|]/g, '_')
    .replace(/[. ]+$/g, '')   // Windows drops trailing dots and spaces
    .replace(/^ +/g, '');
  if (out === '' || /^\.+$/.test(out)) out = '_';
  if (WINDOWS_RESERVED.test(out)) out = '_' + out;
  if (Buffer.byteLength(out) > MAX_NAME_BYTES) out = truncateBytes(out, MAX_NAME_BYTES).replace(/[. ]+$/g, '') || '_';
  return out;
}

function truncateBytes(s: string, max: number): string {
  let out = '';
  for (const ch of s) {
    if (Buffer.byteLength(out + ch) > max) break;
    out += ch;
  }
  return out;
}

/** A file name: keeps the extension when the stem must be truncated. */
export function sanitizeFileName(name: string): string {
  const ext = path.extname(name);
  const stem = name.slice(0, name.length - ext.length);
  if (Buffer.byteLength(name) <= MAX_NAME_BYTES || !ext || ext.length > 16) return sanitizeSegment(name);
  return sanitizeSegment(truncateBytes(stem, MAX_NAME_BYTES - Buffer.byteLength(ext)) + ext);
}

export interface TemplateValues {
  label: string;
  takenAt: string | null;   // ISO local time
  cameraMake: string | null;
  cameraModel: string | null;
  fileName: string;         // basename of the source
}

export function cameraName(make: string | null, model: string | null): string {
  const mk = (make ?? '').trim();
  const md = (model ?? '').trim();
  if (!mk && !md) return 'Unknown camera';
  if (!mk) return md;
  if (!md) return mk;
  // "Canon" + "Canon EOS 5D" -> "Canon EOS 5D"
  return md.toLowerCase().startsWith(mk.toLowerCase().split(/\s+/)[0]) ? md : `${mk} ${md}`;
}

/**
 * Renders the template into [folder segments..., file name]. Every token value is sanitised on its own, so a
 * label containing '/' or '..' cannot create or escape folders. When the template has no {name}, the file keeps
 * its own name inside the rendered folder.
 */
export function renderTemplate(template: string, v: TemplateValues): { folders: string[]; fileName: string } {
  const ext = path.extname(v.fileName);
  const name = v.fileName.slice(0, v.fileName.length - ext.length);
  const date = /^(\d{4})-(\d{2})-(\d{2})/.exec(v.takenAt ?? '');
  const values: Record<TemplateToken, string> = {
    label: v.label,
    yyyy: date ? date[1] : 'undated',
    mm: date ? date[2] : 'undated',
    dd: date ? date[3] : 'undated',
    camera: cameraName(v.cameraMake, v.cameraModel),
    name,
    ext: ext.replace(/^\./, ''),
  };
  const hasName = template.includes('{name}');
  const rawSegs = template.split(/[/\\]+/).filter((s) => s.length > 0);
  const segs = rawSegs.map((seg) => seg.replace(/\{([a-z]+)\}/g, (_m, t: TemplateToken) => {
    // a token value may not contain separators: replace them before the segment is sanitised as a whole
    return values[t].replace(/[/\\]/g, '_');
  })).map((s) => sanitizeSegment(s));
  if (hasName) {
    let file = segs.pop() ?? sanitizeSegment(v.fileName);
    if (!rawSegs[rawSegs.length - 1]?.includes('{ext}') && ext && !file.toLowerCase().endsWith(ext.toLowerCase())) file += ext;
    return { folders: segs, fileName: sanitizeFileName(file) };
  }
  return { folders: segs, fileName: sanitizeFileName(v.fileName) };
}

/** The key two names collide on, on a case-insensitive (and normalisation-insensitive) file system. */
export function foldKey(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

/** "IMG_1.jpg", n=2 -> "IMG_1 (2).jpg" */
export function numbered(fileName: string, n: number): string {
  if (n === 0) return fileName;
  const ext = path.extname(fileName);
  return `${fileName.slice(0, fileName.length - ext.length)} (${n})${ext}`;
}
