// Electron main: one window, the app menu, the single-instance lock, the native folder picker, the sift://
// protocol, and the IPC bridge to the engine. Main holds no business logic: the engine runs in a utility
// process (engine-process.ts) and every renderer call is checked here (ipc-core.ts) before it is forwarded.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, shell, type IpcMainInvokeEvent, type MenuItemConstructorOptions } from 'electron';
import type { SiftEvent } from '../src/api/contract/index.ts';
import { EngineProcess } from './engine-process.ts';
import { allowedOrigins, checkCall, contentSecurityPolicy, errorReply, isTrustedSender } from './ipc-core.ts';
import { APP_ORIGIN, channels, SCHEME, type CallReply } from './ipc-channels.ts';
import { decide, readChecked } from './protocol-core.ts';
import { engineProtocolDeps, type CachedProtocolDeps } from './protocol-deps.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const devServerUrl = (!app.isPackaged && process.env.ELECTRON_RENDERER_URL) || undefined;
const dev = Boolean(devServerUrl);
const origins = allowedOrigins(devServerUrl);
const csp = contentSecurityPolicy(dev, devServerUrl);

// Tests and power users may point the app at another profile folder (before anything reads userData).
if (process.env.SIFT_USER_DATA) app.setPath('userData', path.resolve(process.env.SIFT_USER_DATA));

// Must happen before `ready`: sift: behaves like https (standard, secure origin, fetch allowed).
protocol.registerSchemesAsPrivileged([
  { scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
]);

const paths = {
  preload: path.join(here, '..', 'preload', 'preload.cjs'),
  renderer: path.join(here, '..', 'renderer'),
  engineHost: path.join(here, 'engine-host.js'),
  db: () => process.env.SIFT_DB ?? path.join(app.getPath('userData'), 'sift.db'),
  models: () =>
    process.env.SIFT_MODELS_DIR ?? (app.isPackaged ? path.join(process.resourcesPath, 'models') : path.join(app.getAppPath(), 'resources', 'models')),
};

let mainWindow: BrowserWindow | null = null;
let engine: EngineProcess | null = null;

// In dev, the engine's SQLite binding built for Electron by `npm start` (scripts/electron-native.mjs); the
// utility process inherits this environment. A packaged app's modules are rebuilt by electron-builder.
if (!app.isPackaged && !process.env.SIFT_SQLITE_BINDING) {
  process.env.SIFT_SQLITE_BINDING = path.join(app.getAppPath(), 'node_modules', '.sift-electron', 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  lockDownWebContents();
  app.whenReady().then(start).catch((err: unknown) => {
    dialog.showErrorBox('Sift could not start', err instanceof Error ? err.message : String(err));
    app.exit(1);
  });
}

async function start(): Promise<void> {
  let shownFailure = '';
  engine = new EngineProcess({
    hostScript: paths.engineHost, dbPath: paths.db(), modelsDir: paths.models(),
    onStartFailure: (reason) => {
      if (reason === shownFailure) return; // once per cause, not on every retry
      shownFailure = reason;
      dialog.showErrorBox('The Sift engine could not start', `${reason}\n\nDatabase: ${paths.db()}`);
    },
  });
  const eng = engine;
  secureSession();
  const protocolDeps = registerProtocol(eng);
  eng.onEvent((e) => {
    if (e.type === 'library.changed') protocolDeps.invalidate();
    if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(channels.event, e satisfies SiftEvent);
  });
  registerIpc(eng);
  Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate(eng)));
  eng.get(); // start the engine process (opens the database) while the window loads
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
}

function createWindow(): void {
  mainWindow = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 720,
    minHeight: 480,
    show: false,
    title: 'Sift',
    backgroundColor: '#1e1f22',
    webPreferences: {
      // Reviewed (electronegativity PRELOAD_JS_CHECK asks for a manual review of every preload): main/preload.ts
      // runs sandboxed, exposes only window.sift via contextBridge, and speaks only on the sift: channels.
      preload: paths.preload, /* eng-disable PRELOAD_JS_CHECK */
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      // Middle-click must not open anything (the window-open handler denies it too).
      disableBlinkFeatures: 'Auxclick',
    },
  });
  mainWindow.once('ready-to-show', () => mainWindow?.show());
  mainWindow.on('closed', () => {
    mainWindow = null;
  });
  void mainWindow.loadURL(devServerUrl ?? `${APP_ORIGIN}/index.html`);
}

/** Every web contents (the window and anything it could spawn): no navigation, no new windows, no webviews. */
function lockDownWebContents(): void {
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}

function secureSession(): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);
  // The CSP header on everything the renderer loads over http(s) (the dev server); sift:// responses carry it
  // themselves. The renderer's index.html repeats it in a meta tag.
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp], 'X-Content-Type-Options': ['nosniff'] } });
  });
  // Nothing leaves the machine: only the app's own scheme, the dev server, and devtools are loaded.
  const devOrigins = origins.filter((o) => o !== APP_ORIGIN).flatMap((o) => [`${o}/`, `${o.replace(/^http/, 'ws')}/`]);
  const allowedPrefixes = [`${SCHEME}:`, 'devtools:', 'data:', 'blob:', ...devOrigins];
  ses.webRequest.onBeforeRequest((details, callback) => {
    callback({ cancel: !allowedPrefixes.some((p) => details.url.startsWith(p)) });
  });
}

// --- the sift:// protocol ------------------------------------------------------------------------------

function registerProtocol(eng: EngineProcess): CachedProtocolDeps {
  const deps = engineProtocolDeps({
    client: () => eng.get(),
    thumbsDir: async () => (await eng.get().ready()).thumbsDir,
    rendererDir: dev ? null : paths.renderer,
  });
  const baseHeaders = { 'Content-Security-Policy': csp, 'X-Content-Type-Options': 'nosniff' };
  protocol.handle(SCHEME, async (request) => {
    try {
      const d = await decide(request.url, request.method, deps);
      if (!d.ok) return new Response(d.reason, { status: d.status, headers: { ...baseHeaders, 'Content-Type': 'text/plain; charset=utf-8' } });
      const body = request.method === 'HEAD' ? null : new Uint8Array(await readChecked(d.file));
      const cache = d.kind === 'app' ? 'no-cache' : 'private, max-age=60';
      return new Response(body, { status: 200, headers: { ...baseHeaders, 'Content-Type': d.contentType, 'Cache-Control': cache } });
    } catch (err) {
      return new Response(`sift: ${err instanceof Error ? err.message : String(err)}`, { status: 500, headers: { ...baseHeaders, 'Content-Type': 'text/plain; charset=utf-8' } });
    }
  });
  return deps;
}

// --- IPC ------------------------------------------------------------------------------------------------

function trusted(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  const win = mainWindow;
  if (!frame || !win || win.isDestroyed() || event.sender !== win.webContents) return false;
  const top = win.webContents.mainFrame;
  const isTopFrame = frame.parent === null && frame.processId === top.processId && frame.routingId === top.routingId;
  return isTrustedSender({ url: frame.url, isTopFrame }, origins);
}

function registerIpc(eng: EngineProcess): void {
  ipcMain.handle(channels.call, async (event, name: unknown, input: unknown): Promise<CallReply> => {
    if (!trusted(event)) return { ok: false, error: { message: 'Refused: the call does not come from the Sift window.', code: 'forbidden' } };
    const checked = checkCall(name, input);
    if (!checked.ok) return checked.reply;
    try {
      const value = await eng.get().call(checked.name, checked.input as never);
      return { ok: true, value };
    } catch (err) {
      return errorReply(err);
    }
  });
  ipcMain.handle(channels.pickFolder, async (event): Promise<string | null> => {
    if (!trusted(event) || !mainWindow) return null;
    return pickFolder(mainWindow);
  });
}

async function pickFolder(win: BrowserWindow): Promise<string | null> {
  const res = await dialog.showOpenDialog(win, { title: 'Add a photo folder', properties: ['openDirectory', 'createDirectory'] });
  return res.canceled || res.filePaths.length === 0 ? null : res.filePaths[0];
}

// --- menu -----------------------------------------------------------------------------------------------

function menuTemplate(eng: EngineProcess): MenuItemConstructorOptions[] {
  const mac = process.platform === 'darwin';
  const addFolder = async () => {
    if (!mainWindow) return;
    const folder = await pickFolder(mainWindow);
    if (!folder) return;
    try {
      await eng.get().call('library.addRoot', { path: folder });
      await eng.get().call('library.index', { roots: [folder] });
    } catch (err) {
      dialog.showErrorBox('Could not add the folder', `${folder}\n\n${err instanceof Error ? err.message : String(err)}`);
    }
  };
  return [
    ...(mac ? [{ role: 'appMenu' } as MenuItemConstructorOptions] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Add Folder…', accelerator: 'CmdOrCtrl+O', click: () => void addFolder() },
        { label: 'Show Database Folder', click: () => void shell.openPath(path.dirname(paths.db())) },
        { type: 'separator' },
        mac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    // Undo/redo are the app's own (the renderer handles Ctrl/Cmd+Z), so the Edit menu only carries clipboard roles.
    { label: 'Edit', submenu: [{ role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }] },
    {
      label: 'View',
      submenu: [
        ...(dev || !app.isPackaged ? [{ role: 'reload' }, { role: 'toggleDevTools' }, { type: 'separator' }] as MenuItemConstructorOptions[] : []),
        { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
    { role: 'help', submenu: [{ label: 'About Sift', click: () => void dialog.showMessageBox({ message: `Sift ${app.getVersion()}`, detail: 'Sort your photos offline.' }) }] },
  ];
}

// --- quit -----------------------------------------------------------------------------------------------

let quitting = false;
app.on('before-quit', (event) => {
  if (quitting || !engine) return;
  event.preventDefault();
  quitting = true;
  void engine.stop().finally(() => app.quit());
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
