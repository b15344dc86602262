// What a host puts at window.sift for the renderer (Electron preload, or the web test host's client).
import type { SiftClient } from './index.ts';

export interface SiftHost extends SiftClient {
  /** 'electron' or 'web' */
  kind: 'electron' | 'web';
  /** URL of a photo's thumbnail (served by the host; only library photos). */
  thumbUrl(photoId: number): string;
  /** URL of the full photo (served by the host; only library photos). */
  photoUrl(photoId: number): string;
  /** Native folder picker; null when cancelled or not available (the web host asks for a path). */
  pickFolder(): Promise<string | null>;
  /** Absolute path of a File dropped on the window (Electron preload: webUtils.getPathForFile); absent on the web host. */
  pathForFile?(file: File): string | null;
}
