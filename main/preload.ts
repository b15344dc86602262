// The sandboxed preload: exposes window.sift (SiftHost) through contextBridge. It speaks only on the sift:
// channels (ipc-channels.ts) and hands the renderer no Electron object: calls go out as (name, input) on one
// channel and come back as data; events arrive as plain objects.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { Input, MethodName, Output, SiftEvent, SiftHost } from '../src/api/contract/index.ts';
import { channels, isSiftChannel, photoUrl, thumbUrl, type CallReply, type Channel } from './ipc-channels.ts';

function invoke(channel: Channel, ...args: unknown[]): Promise<unknown> {
  if (!isSiftChannel(channel)) return Promise.reject(new Error(`Unsupported IPC channel: ${String(channel)}`));
  return ipcRenderer.invoke(channel, ...args);
}

/** An engine error as the renderer sees it: the engine's message, plus its code. */
class SiftCallError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = 'SiftCallError';
  }
}

const host: SiftHost = {
  kind: 'electron',
  async call<K extends MethodName>(name: K, input: Input<K>): Promise<Output<K>> {
    const reply = (await invoke(channels.call, name, input)) as CallReply;
    if (reply.ok) return reply.value as Output<K>;
    throw new SiftCallError(reply.error.message, reply.error.code);
  },
  onEvent(listener: (e: SiftEvent) => void): () => void {
    const handler = (_event: IpcRendererEvent, e: SiftEvent) => listener(e);
    ipcRenderer.on(channels.event, handler);
    return () => {
      ipcRenderer.removeListener(channels.event, handler);
    };
  },
  thumbUrl: (photoId: number) => thumbUrl(Number(photoId)),
  photoUrl: (photoId: number) => photoUrl(Number(photoId)),
  pickFolder: async () => (await invoke(channels.pickFolder)) as string | null,
  pathForFile(file: File): string | null {
    try {
      return webUtils.getPathForFile(file) || null;
    } catch {
      return null;
    }
  },
};

contextBridge.exposeInMainWorld('sift', host);
