import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import './styles.css';
import { call } from './host.ts';

// Ask for the library's status while React mounts (the shell needs it first; the answer is shared).
void call('library.status', {}).catch(() => {});

createRoot(document.getElementById('root')!).render(<App />);
