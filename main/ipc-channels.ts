// The IPC channel names between the preload (renderer side) and main. Pure constants: the sandboxed
// preload bundles this file, so it imports nothing. Every channel carries the `sift:` prefix, and both sides
// refuse any other channel.
export const CHANNEL_PREFIX = 'sift:';

export const channels = {
  /** invoke: (name, input) -> CallReply. One generic channel for every engine API method. */
  call: 'sift:call',
  /** invoke: () -> string | null. Native folder picker. */
  pickFolder: 'sift:pick-folder',
  /** main -> renderer: SiftEvent from the engine. */
  event: 'sift:event',
} as const;

export type Channel = (typeof channels)[keyof typeof channels];

export function isSiftChannel(channel: string): channel is Channel {
  return channel.startsWith(CHANNEL_PREFIX) && (Object.values(channels) as string[]).includes(channel);
}

/** What main answers on `sift:call`: errors travel as data so the renderer sees the engine's own message. */
export type CallReply =
  | { ok: true; value: unknown }
  | { ok: false; error: { message: string; code: string } };

/** The custom scheme of the app: sift://app/... (the renderer), sift://thumb/<id>, sift://photo/<id>. */
export const SCHEME = 'sift';
export const APP_ORIGIN = 'sift://app';
export const thumbUrl = (photoId: number): string => `sift://thumb/${photoId}`;
export const photoUrl = (photoId: number): string => `sift://photo/${photoId}`;
