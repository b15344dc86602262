// How a method of the engine API is declared: a zod schema for its input (validated at every process
// boundary and in the engine) and a phantom output type. Pure: runs in the renderer too.
import type { z } from 'zod';

export interface MethodDef<I extends z.ZodType = z.ZodType, O = unknown> {
  input: I;
  /** phantom: the output type, never set at run time */
  readonly __out?: O;
}

/** method<Output>()(inputSchema) */
export const method = <O>() => <I extends z.ZodType>(input: I): MethodDef<I, O> => ({ input });
