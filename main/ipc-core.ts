// Main-side checks of every IPC call, pure of Electron so vitest tests them: the method name must be one of
// the engine contract, its input must parse with the method's zod schema, and the sender must be the app's
// own top frame (never a subframe, never another origin).
import { contract, isMethod, type MethodName } from '../src/api/contract/index.ts';
import type { CallReply } from './ipc-channels.ts';

export type CheckedCall = { ok: true; name: MethodName; input: unknown } | { ok: false; reply: CallReply };

const fail = (message: string, code = 'bad_input'): { ok: false; reply: CallReply } => ({ ok: false, reply: { ok: false, error: { message, code } } });

/** Validates a call's name against the contract and its input with the method's zod schema. */
export function checkCall(name: unknown, input: unknown): CheckedCall {
  if (typeof name !== 'string' || !isMethod(name)) return fail(`Unknown API method: ${String(name).slice(0, 100)}`);
  const parsed = contract[name].input.safeParse(input ?? {});
  if (!parsed.success) {
    return fail(`Invalid input for ${name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ')}`);
  }
  return { ok: true, name, input: parsed.data };
}

/** The origins the renderer may be loaded from: the app scheme, plus the dev server in development. */
export function allowedOrigins(devServerUrl: string | undefined): string[] {
  const origins = ['sift://app'];
  if (devServerUrl) {
    try {
      origins.push(new URL(devServerUrl).origin);
    } catch {
      // a malformed dev URL adds nothing
    }
  }
  return origins;
}

/** Whether an IPC message comes from a frame we trust: our top frame, at one of our origins. */
export function isTrustedSender(frame: { url: string; isTopFrame: boolean } | null | undefined, origins: string[]): boolean {
  if (!frame || !frame.isTopFrame) return false;
  let origin: string;
  try {
    origin = new URL(frame.url).origin;
  } catch {
    return false;
  }
  // Node's URL gives 'null' as the origin of non-special schemes: rebuild it for sift:.
  if (origin === 'null' && frame.url.startsWith('sift://')) origin = `sift://${new URL(frame.url).host}`;
  return origins.includes(origin);
}

/** Makes an error JSON-safe for the trip back to the renderer. */
export function errorReply(err: unknown): CallReply {
  const e = err as { message?: unknown; code?: unknown; name?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const code = typeof e?.code === 'string' ? e.code : 'internal';
  return { ok: false, error: { message, code } };
}

/** The Content-Security-Policy main sets on the renderer's responses (the renderer's meta tag repeats it). */
export function contentSecurityPolicy(dev: boolean, devServerUrl?: string): string {
  const devOrigin = dev && devServerUrl ? new URL(devServerUrl).origin : '';
  const devWs = devOrigin ? devOrigin.replace(/^http/, 'ws') : '';
  return [
    "default-src 'none'",
    // Vite's dev server injects an inline module (React refresh preamble): allowed in dev only.
    dev ? `script-src 'self' 'unsafe-inline' ${devOrigin}`.trim() : "script-src 'self'",
    `style-src 'self' 'unsafe-inline' ${devOrigin}`.trim(),
    "img-src 'self' sift: data: blob:",
    "font-src 'self' data:",
    dev ? `connect-src 'self' ${devOrigin} ${devWs}`.trim() : "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-src 'none'",
    "frame-ancestors 'none'",
    "worker-src 'self' blob:",
  ].join('; ');
}
