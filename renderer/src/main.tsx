import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import './styles.css';
import { call } from './host.ts';
import { opensOnGallery } from './boot.ts';
import { prefetchFirstPage } from './sources.ts';

// Ask for the library's status while React mounts (the shell needs it first; the answer is shared). On the
// gallery it waits for the first paint instead (boot.ts), and the first page of photos is asked for now.
if (!opensOnGallery) void call('library.status', {}).catch(() => {});
else prefetchFirstPage();

createRoot(document.getElementById('root')!).render(<App />);
