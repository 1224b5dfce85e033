/**
 * Reads the parts of a WebAssembly binary that decide whether it is a rowpool kernel: the types of
 * its imports and exported functions, its memories, and its exported globals' types and constant
 * values. `WebAssembly.Module.imports()` and `.exports()` give only names and kinds, not signatures,
 * limits or values, and this is a few dozen lines of the binary format, so it is read here rather
 * than pulled in from a parser library. It runs only after `new WebAssembly.Module` has accepted
 * the bytes, so the structure is known to be well formed; it still bounds-checks every read.
 */

export type ValueType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref' | 'ref';

export interface FunctionType {
  readonly params: readonly ValueType[];
  readonly results: readonly ValueType[];
}

export interface Limits {
  readonly min: number;
  readonly max: number | null;
  readonly shared: boolean;
  readonly is64: boolean;
}

export type ExternalKind = 'function' | 'table' | 'memory' | 'global' | 'tag';

export type ImportEntry =
  | { readonly module: string; readonly name: string; readonly kind: 'function'; readonly type: FunctionType }
  | { readonly module: string; readonly name: string; readonly kind: 'memory'; readonly limits: Limits }
  | { readonly module: string; readonly name: string; readonly kind: 'table' | 'global' | 'tag' };

export interface GlobalEntry {
  readonly type: ValueType;
  readonly mutable: boolean;
  /** The value when the initialiser is a lone `i32.const`, else null. */
  readonly i32Value: number | null;
}

export interface ExportEntry {
  readonly name: string;
  readonly kind: ExternalKind;
  readonly index: number;
}

export interface ModuleSummary {
  readonly imports: readonly ImportEntry[];
  /** The type of every function in the function index space: imported ones first, as wasm numbers them. */
  readonly functionTypes: readonly FunctionType[];
  /** Every global in the global index space; imported ones are null (their values are not in the binary). */
  readonly globals: readonly (GlobalEntry | null)[];
  /** Memories the module defines itself (imported ones are among `imports`). */
  readonly memories: readonly Limits[];
  readonly exports: readonly ExportEntry[];
}

/** Thrown for a construct the reader does not know; the caller turns it into its own refusal. */
export class UnsupportedWasm extends Error {}

const KINDS: readonly ExternalKind[] = ['function', 'table', 'memory', 'global', 'tag'];

const VALUE_TYPES: Record<number, ValueType> = {
  127: 'i32',
  126: 'i64',
  125: 'f32',
  124: 'f64',
  123: 'v128',
  112: 'funcref',
  111: 'externref',
};

const SECTION = { type: 1, import: 2, function: 3, memory: 5, global: 6, export: 7 } as const;

class Reader {
  pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.bytes.byteLength;
  }

  byte(): number {
    if (this.pos >= this.bytes.byteLength) throw new UnsupportedWasm('unexpected end of the binary');
    return this.bytes[this.pos++];
  }

  skip(count: number): void {
    if (this.pos + count > this.bytes.byteLength) throw new UnsupportedWasm('unexpected end of the binary');
    this.pos += count;
  }

  /** An unsigned LEB128 of up to 64 bits, as a number (exact up to 2**53). */
  unsigned(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return value;
      scale *= 128;
    }
  }

  /** A signed LEB128 of up to 32 bits. */
  signed32(): number {
    let value = 0;
    let shift = 0;
    let b: number;
    do {
      b = this.byte();
      value |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80 && shift < 35);
    return shift < 32 && b & 0x40 ? value | (-1 << shift) : value | 0;
  }

  name(): string {
    const length = this.unsigned();
    const start = this.pos;
    this.skip(length);
    return new TextDecoder().decode(this.bytes.subarray(start, start + length));
  }

  valueType(): ValueType {
    const code = this.byte();
    if (code === 0x63 || code === 0x64) {
      this.signed32();
      return 'ref';
    }
    const type = VALUE_TYPES[code];
    if (type === undefined) throw new UnsupportedWasm(`value type 0x${code.toString(16)}`);
    return type;
  }

  limits(): Limits {
    const flags = this.byte();
    const min = this.unsigned();
    const max = flags & 1 ? this.unsigned() : null;
    return { min, max, shared: (flags & 2) !== 0, is64: (flags & 4) !== 0 };
  }

  functionType(): FunctionType {
    const form = this.byte();
    if (form !== 0x60) throw new UnsupportedWasm(`type form 0x${form.toString(16)} (only function types)`);
    const params = this.vector(() => this.valueType());
    const results = this.vector(() => this.valueType());
    return { params, results };
  }

  vector<T>(read: () => T): T[] {
    const count = this.unsigned();
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(read());
    return items;
  }

  /** Reads a constant expression up to its `end`; the value when it is a lone i32.const. */
  constantExpression(): number | null {
    let i32Value: number | null = null;
    for (let instructions = 0; ; instructions++) {
      const op = this.byte();
      if (op === 0x0b) return instructions === 1 ? i32Value : null;
      if (op === 0x41) i32Value = this.signed32();
      else if (op === 0x42) this.unsigned();
      else if (op === 0x43) this.skip(4);
      else if (op === 0x44) this.skip(8);
      else if (op === 0x23 || op === 0xd2) this.unsigned();
      else if (op === 0xd0) this.signed32();
      else if (op === 0xfd && this.unsigned() === 12) this.skip(16);
      else if (![0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e].includes(op)) {
        throw new UnsupportedWasm(`instruction 0x${op.toString(16)} in a constant expression`);
      }
    }
  }
}

/** Reads the summary; throws UnsupportedWasm for constructs outside what it knows. */
export function readModuleSummary(bytes: Uint8Array): ModuleSummary {
  const reader = new Reader(bytes);
  reader.skip(8);
  let types: FunctionType[] = [];
  const imports: ImportEntry[] = [];
  const functionTypes: FunctionType[] = [];
  const globals: (GlobalEntry | null)[] = [];
  let memories: Limits[] = [];
  let exports: ExportEntry[] = [];
  const typeAt = (index: number): FunctionType => {
    const type = types[index];
    if (type === undefined) throw new UnsupportedWasm(`type index ${index}`);
    return type;
  };
  while (!reader.done) {
    const id = reader.byte();
    const size = reader.unsigned();
    const end = reader.pos + size;
    if (id === SECTION.type) types = reader.vector(() => reader.functionType());
    else if (id === SECTION.import) {
      reader.vector(() => {
        const module = reader.name();
        const name = reader.name();
        const kind = reader.byte();
        if (kind === 0) {
          const type = typeAt(reader.unsigned());
          functionTypes.push(type);
          imports.push({ module, name, kind: 'function', type });
        } else if (kind === 1) {
          reader.valueType();
          reader.limits();
          imports.push({ module, name, kind: 'table' });
        } else if (kind === 2) {
          imports.push({ module, name, kind: 'memory', limits: reader.limits() });
        } else if (kind === 3) {
          reader.valueType();
          reader.byte();
          globals.push(null);
          imports.push({ module, name, kind: 'global' });
        } else if (kind === 4) {
          reader.byte();
          reader.unsigned();
          imports.push({ module, name, kind: 'tag' });
        } else throw new UnsupportedWasm(`import kind ${kind}`);
      });
    } else if (id === SECTION.function) {
      for (const index of reader.vector(() => reader.unsigned())) functionTypes.push(typeAt(index));
    } else if (id === SECTION.memory) memories = reader.vector(() => reader.limits());
    else if (id === SECTION.global) {
      reader.vector(() => {
        const type = reader.valueType();
        const mutable = reader.byte() === 1;
        globals.push({ type, mutable, i32Value: reader.constantExpression() });
      });
    } else if (id === SECTION.export) {
      exports = reader.vector(() => {
        const name = reader.name();
        const kind = KINDS[reader.byte()];
        if (kind === undefined) throw new UnsupportedWasm(`export kind of ${name}`);
        return { name, kind, index: reader.unsigned() };
      });
    }
    reader.pos = end;
  }
  return { imports, functionTypes, globals, memories, exports };
}

/** `(i32, i32) -> i32`, as the refusals print signatures. */
export function formatFunctionType(type: FunctionType): string {
  const results = type.results.length === 0 ? '()' : type.results.join(', ');
  return `(${type.params.join(', ')}) -> ${results}`;
}
