// Vite plugin for the renderer in `electron-vite dev` only: the React refresh preamble that
// @vitejs/plugin-react injects is an inline script, and Vite's client talks to the dev server over a
// WebSocket. The strict meta CSP in renderer/index.html forbids both, so in dev the meta tag is replaced with
// main's dev policy (ipc-core.ts) for the actual dev server URL. Production builds keep the meta tag as it is.
import type { Plugin } from 'vite';
import { contentSecurityPolicy } from '../ipc-core.ts';

const META_RE = /(<meta\s+http-equiv=["']Content-Security-Policy["']\s+content=")([^"]*)(")/i;

export function devCspPlugin(): Plugin {
  return {
    name: 'sift:dev-csp',
    apply: 'serve',
    transformIndexHtml(html, ctx) {
      const url = ctx.server?.resolvedUrls?.local[0] ?? 'http://localhost:5173/';
      return rewriteCsp(html, contentSecurityPolicy(true, url));
    },
  };
}

/** The html with its meta CSP's content replaced by `csp` (unchanged when there is no meta CSP). */
export function rewriteCsp(html: string, csp: string): string {
  return html.replace(META_RE, (_m, a: string, _old: string, c: string) => `${a}${csp.replace(/"/g, '&quot;')}${c}`);
}
