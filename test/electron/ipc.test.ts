// The typed IPC bridge without Electron: main's call checks (ipc-core.ts), the channel rules the preload
// enforces (ipc-channels.ts), and the main <-> engine-process wire (engine-protocol.ts) driving a real Engine
// on a real SQLite file through a real MessageChannel (structured clone, like Electron's ports).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/api/engine.ts';
import { contract } from '../../src/api/contract/index.ts';
import { allowedOrigins, checkCall, contentSecurityPolicy, errorReply, isTrustedSender } from '../../main/ipc-core.ts';
import { channels, isSiftChannel } from '../../main/ipc-channels.ts';
import { EngineClient, serveEngine, type FromEngine, type Port, type ToEngine } from '../../main/engine-protocol.ts';

describe('main checks every call', () => {
  it('accepts contract methods with valid input and returns the parsed input', () => {
    const r = checkCall('jobs.list', {});
    expect(r).toEqual({ ok: true, name: 'jobs.list', input: {} });
    // zod defaults are applied in main already
    const q = checkCall('library.photos', { limit: 10 });
    expect(q).toMatchObject({ ok: true, input: { status: 'all', offset: 0, limit: 10 } });
  });

  it.each([['nope.method'], ['__proto__'], ['constructor'], ['toString'], [42], [null], [{ name: 'jobs.list' }]])('refuses a name outside the contract: %s', (name) => {
    const r = checkCall(name, {});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reply).toMatchObject({ ok: false, error: { code: 'bad_input', message: expect.stringMatching(/Unknown API method/) } });
  });

  it('refuses input that does not parse with the method schema, naming the field', () => {
    const bad = [
      ['library.photo', { id: '1' }, /id/],
      ['library.photo', { id: 1.5 }, /id/],
      ['library.photos', { offset: -1 }, /offset/],
      ['library.addRoot', { path: '' }, /path/],
      ['library.addRoot', 'not an object', /\(input\)/],
    ] as const;
    for (const [name, input, field] of bad) {
      const r = checkCall(name, input);
      expect(r.ok, `${name} ${JSON.stringify(input)}`).toBe(false);
      if (!r.ok && !r.reply.ok) expect(r.reply.error.message).toMatch(field);
    }
  });

  it('knows every contract method (one generic bridge, no per-method handlers)', () => {
    const names = Object.keys(contract);
    expect(names.length).toBeGreaterThan(5);
    for (const name of names) {
      const r = checkCall(name, {});
      // every contract method is routed: it either passes or fails on its own schema, never as unknown
      if (!r.ok && !r.reply.ok) expect(r.reply.error.message.startsWith(`Invalid input for ${name}:`), r.reply.error.message).toBe(true);
    }
  });
});

describe('sender frame check', () => {
  const prod = allowedOrigins(undefined);
  const dev = allowedOrigins('http://localhost:5173/');
  it('trusts only the top frame at the app origin', () => {
    expect(isTrustedSender({ url: 'sift://app/index.html', isTopFrame: true }, prod)).toBe(true);
    expect(isTrustedSender({ url: 'sift://app/index.html', isTopFrame: false }, prod)).toBe(false);
    expect(isTrustedSender({ url: 'sift://thumb/1', isTopFrame: true }, prod)).toBe(false);
    expect(isTrustedSender({ url: 'https://evil.example/', isTopFrame: true }, prod)).toBe(false);
    expect(isTrustedSender({ url: 'file:///work/out/renderer/index.html', isTopFrame: true }, prod)).toBe(false);
    expect(isTrustedSender({ url: 'about:blank', isTopFrame: true }, prod)).toBe(false);
    expect(isTrustedSender({ url: '', isTopFrame: true }, prod)).toBe(false);
    expect(isTrustedSender(null, prod)).toBe(false);
  });
  it('trusts the dev server origin only in development', () => {
    expect(isTrustedSender({ url: 'http://localhost:5173/', isTopFrame: true }, prod)).toBe(false);
    expect(isTrustedSender({ url: 'http://localhost:5173/', isTopFrame: true }, dev)).toBe(true);
    expect(isTrustedSender({ url: 'http://localhost:5174/', isTopFrame: true }, dev)).toBe(false);
    expect(isTrustedSender({ url: 'http://localhost:5173.evil.example/', isTopFrame: true }, dev)).toBe(false);
  });
});

describe('preload channels and CSP', () => {
  it('only sift: channels pass', () => {
    for (const c of Object.values(channels)) expect(isSiftChannel(c)).toBe(true);
    expect(isSiftChannel('sift:other')).toBe(false);
    expect(isSiftChannel('vscode:call')).toBe(false);
    expect(isSiftChannel('ELECTRON_BROWSER_REQUIRE')).toBe(false);
  });
  it('the production CSP allows no inline or eval script and no remote origin', () => {
    const csp = contentSecurityPolicy(false);
    const script = csp.split('; ').find((d) => d.startsWith('script-src'));
    expect(script).toBe("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toMatch(/unsafe-eval|https?:|\*/);
    expect(contentSecurityPolicy(true, 'http://localhost:5173')).toContain('ws://localhost:5173');
  });
  it('errors travel as data with their message and code', () => {
    expect(errorReply(Object.assign(new Error('No photo 9'), { code: 'not_found' }))).toEqual({ ok: false, error: { message: 'No photo 9', code: 'not_found' } });
    expect(errorReply('boom')).toEqual({ ok: false, error: { message: 'boom', code: 'internal' } });
  });
});

describe('main <-> engine process wire, with a real Engine', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const f of cleanup.splice(0).reverse()) f();
  });

  function portOf<Out, In>(p: MessagePort): Port<Out, In> {
    return {
      post: (msg) => p.postMessage(msg),
      listen(fn) {
        const h = (m: In) => fn(m);
        p.on('message', h);
        return () => p.off('message', h);
      },
    };
  }

  function setup() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sift-ipc-'));
    const engine = new Engine({ dbPath: path.join(dir, 'sift.db'), modelsDir: path.join(dir, 'models') });
    const { port1, port2 } = new MessageChannel();
    let closed = false;
    serveEngine(engine, portOf<FromEngine, ToEngine>(port1), () => { closed = true; });
    const client = new EngineClient(portOf<ToEngine, FromEngine>(port2));
    cleanup.push(() => {
      port1.close();
      port2.close();
      try { engine.close(); } catch { /* closed by the test */ }
      fs.rmSync(dir, { recursive: true, force: true });
    });
    return { dir, engine, client, isClosed: () => closed };
  }

  it('announces the engine folders, answers calls and carries engine errors', async () => {
    const { dir, client } = setup();
    const ready = await client.ready();
    expect(ready.dbPath).toBe(path.join(dir, 'sift.db'));
    expect(ready.thumbsDir.startsWith(dir)).toBe(true);
    expect(ready.modelsDir).toBe(path.join(dir, 'models'));
    expect(await client.call('jobs.list', {})).toEqual([]);
    expect(await client.call('jobs.cancel', { jobId: 'nope' })).toEqual({ cancelled: false });
    await expect(client.call('jobs.cancel', {} as never)).rejects.toThrow(/Invalid input for jobs.cancel: jobId/);
    await expect(client.call('no.such' as never, {} as never)).rejects.toMatchObject({ message: 'Unknown API method: no.such', code: 'bad_input' });
  });

  it('answers concurrent calls each with its own reply', async () => {
    const { client } = setup();
    const ids = Array.from({ length: 50 }, (_, i) => `job-${i}`);
    const replies = await Promise.all(ids.map((jobId) => client.call('jobs.cancel', { jobId })));
    expect(replies).toEqual(ids.map(() => ({ cancelled: false })));
  });

  it('forwards engine events to every listener until it unsubscribes', async () => {
    const { engine, client } = setup();
    await client.ready();
    const got: string[] = [];
    const off = client.onEvent((e) => got.push(e.type));
    engine.ctx.emit({ type: 'library.changed' });
    engine.ctx.emit({ type: 'labels.changed' });
    await new Promise((r) => setTimeout(r, 50));
    off();
    engine.ctx.emit({ type: 'clusters.changed' });
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual(['library.changed', 'labels.changed']);
  });

  it('fails pending and later calls clearly when the process is gone, and closes the database on close', async () => {
    const { engine, client } = setup();
    await client.ready();
    const pending = client.call('jobs.list', {});
    client.fail('The engine process exited (code 9).');
    await expect(pending).rejects.toThrow('The engine process exited (code 9).');
    await expect(client.call('jobs.list', {})).rejects.toThrow('The engine process exited (code 9).');

    const second = setup();
    await second.client.ready();
    second.client.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(second.isClosed()).toBe(true);
    expect(second.engine.ctx.db.open).toBe(false);
    expect(engine.ctx.db.open).toBe(true);
  });

  it('a fatal start (a database that cannot be opened) reaches main with the reason', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sift-ipc-bad-'));
    const bad = path.join(dir, 'sift.db');
    fs.writeFileSync(bad, 'this is not a SQLite database '.repeat(100));
    let reason = '';
    try {
      new Engine({ dbPath: bad });
    } catch (err) {
      reason = (err as Error).message; // what engine-host.ts posts as { kind: 'fatal' }
    }
    expect(reason).not.toBe('');
    const { port1, port2 } = new MessageChannel();
    const client = new EngineClient(portOf<ToEngine, FromEngine>(port2));
    cleanup.push(() => { port1.close(); port2.close(); fs.rmSync(dir, { recursive: true, force: true }); });
    const pending = client.call('jobs.list', {});
    const ready = client.ready();
    port1.postMessage({ kind: 'fatal', message: reason } satisfies FromEngine);
    await expect(pending).rejects.toThrow(`The engine stopped: ${reason}`);
    await expect(ready).rejects.toThrow(reason);
    expect(client.started).toBe(false);
    expect(client.failure).toBe(`The engine stopped: ${reason}`);
  });
});
