import type { EngineContext, Handlers } from '../context.ts';

type K = 'library.addRoot' | 'library.removeRoot' | 'library.status' | 'library.index' | 'library.photos' | 'library.photo';

// TODO(foundation): implement over src/library.
export function libraryHandlers(_ctx: EngineContext): Handlers<K> {
  const todo = (): never => { throw new Error('not implemented yet'); };
  return {
    'library.addRoot': todo,
    'library.removeRoot': todo,
    'library.status': todo,
    'library.index': todo,
    'library.photos': todo,
    'library.photo': todo,
  };
}
