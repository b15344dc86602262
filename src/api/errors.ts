/** An error the caller caused (bad input, unknown id): hosts show its message as is. */
export class ApiError extends Error {
  constructor(message: string, readonly code: 'bad_input' | 'not_found' | 'conflict' | 'internal' = 'bad_input') {
    super(message);
    this.name = 'ApiError';
  }
}
