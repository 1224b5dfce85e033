/**
 * The part of the WebAssembly JS API rowpool uses. TypeScript declares it only in the DOM
 * libraries and @types/node 20 not at all; Node 20 implements all of it.
 */
declare namespace WebAssembly {
  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
    shared?: boolean;
  }

  class Memory {
    constructor(descriptor: MemoryDescriptor);
    /** A SharedArrayBuffer for a shared memory; a new one after every grow. */
    readonly buffer: ArrayBuffer;
    /** Adds `delta` pages and returns the previous size in pages. */
    grow(delta: number): number;
  }

  class Module {
    constructor(bytes: ArrayBufferView | ArrayBuffer);
  }

  type Imports = Record<string, Record<string, Memory | ((...args: never[]) => unknown) | number>>;

  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Record<string, unknown>;
  }

  /** Compiles off the main thread; the promise settles on the event loop. */
  function compile(bytes: ArrayBufferView | ArrayBuffer): Promise<Module>;
}
