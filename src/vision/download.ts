// Resumable, verified downloads of optional models: HTTP Range resume from `<dest>.part`, size and SHA-256
// checked before the file is moved into place, progress reported, cancellable.
import fs from 'node:fs';
import crypto from 'node:crypto';
import path from 'node:path';

export interface DownloadSpec { url: string; size: number; sha256: string }
export interface DownloadOptions {
  signal?: AbortSignal;
  onProgress?: (p: { done: number; total: number }) => void;
  /** automatic resumes after a cut connection within this call (default 3) */
  retries?: number;
}

export class DownloadError extends Error {
  constructor(message: string, readonly code: 'checksum' | 'size' | 'http' | 'interrupted') { super(message); this.name = 'DownloadError'; }
}

async function hashFile(file: string): Promise<string> {
  const h = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function sizeOf(file: string): number { try { return fs.statSync(file).size; } catch { return 0; } }

/** One request: appends to the .part file from its current size. Returns when the response ends. */
async function fetchInto(spec: DownloadSpec, part: string, opts: DownloadOptions): Promise<void> {
  let have = sizeOf(part);
  if (have > spec.size) { fs.rmSync(part); have = 0; }
  if (have === spec.size) return;
  const res = await fetch(spec.url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, signal: opts.signal });
  if (res.status === 200 && have > 0) have = 0;                 // server ignored the Range: start over
  else if (res.status === 206) {
    const m = /bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
    if (!m || Number(m[1]) !== have) throw new DownloadError(`${spec.url}: server resumed at the wrong offset (${res.headers.get('content-range')})`, 'http');
  } else if (res.status !== 200) throw new DownloadError(`${spec.url}: HTTP ${res.status} ${res.statusText}`, 'http');
  if (!res.body) throw new DownloadError(`${spec.url}: empty response`, 'http');
  const fd = fs.openSync(part, have === 0 ? 'w' : 'a');
  let done = have;
  try {
    const reader = res.body.getReader();
    for (;;) {
      const { done: end, value } = await reader.read();
      if (end) break;
      fs.writeSync(fd, value);
      done += value.byteLength;
      if (done > spec.size) throw new DownloadError(`${spec.url}: larger than the expected ${spec.size} bytes`, 'size');
      opts.onProgress?.({ done, total: spec.size });
    }
  } finally { fs.closeSync(fd); }
  if (done < spec.size) throw new Error(`connection closed at ${done} of ${spec.size} bytes`);
}

/**
 * Downloads spec.url to dest. A cut connection keeps `<dest>.part` and resumes with a Range request (again
 * within this call up to `retries` times, or on the next call). A wrong size or SHA-256 deletes the partial
 * file and throws; dest is only written (atomically, by rename) once the file is verified.
 */
export async function download(spec: DownloadSpec, dest: string, opts: DownloadOptions = {}): Promise<{ bytes: number; resumed: boolean }> {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const part = dest + '.part';
  const resumed = sizeOf(part) > 0;
  let attempts = 0;
  for (;;) {
    try {
      await fetchInto(spec, part, opts);
      break;
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      if (e instanceof DownloadError && e.code !== 'interrupted') { if (e.code === 'size') fs.rmSync(part, { force: true }); throw e; }
      if (attempts++ >= (opts.retries ?? 3)) {
        throw new DownloadError(`${spec.url}: download interrupted at ${sizeOf(part)} of ${spec.size} bytes (${(e as Error).message}); run it again to resume`, 'interrupted');
      }
    }
  }
  const got = sizeOf(part);
  if (got !== spec.size) {
    throw new DownloadError(`${spec.url}: got ${got} of ${spec.size} bytes; run it again to resume`, 'interrupted');
  }
  const sha = await hashFile(part);
  if (sha !== spec.sha256) {
    fs.rmSync(part, { force: true });
    throw new DownloadError(`${spec.url}: SHA-256 mismatch (got ${sha}, expected ${spec.sha256}); the file was discarded`, 'checksum');
  }
  fs.renameSync(part, dest);
  return { bytes: got, resumed };
}
