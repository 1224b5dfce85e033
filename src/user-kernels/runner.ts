/**
 * One instance of a user kernel inside a pool worker: its own capped, non-shared memory, the three
 * buffers it allocated right after instantiation, and `runBlock`, which copies a block of float64
 * rows in, calls `rowpool_rows` and copies the outputs out. Whatever goes wrong inside the kernel
 * becomes a KernelFault naming the kernel, what happened and the rows, and the instance is finished:
 * after a trap its memory and globals are in whatever state the trap left them.
 */
import { blockRows, capPages, type KernelBuffers } from './blocks.js';
import { KernelFault } from './errors.js';
import type { KernelMemoryRequest } from './validate.js';

/** What a worker needs to run a kernel; everything in it can be posted to a worker thread. */
export interface KernelRef {
  readonly id: string;
  readonly name: string;
  /** Compiled once at upload; posting it to a worker shares the compiled code. */
  readonly module: WebAssembly.Module;
  readonly memory: KernelMemoryRequest;
}

type RowsFunction = (
  input: number,
  rows: number,
  rowLength: number,
  firstRow: number,
  args: number,
  nArgs: number,
  output: number,
) => number;

/** Thrown by `env.abort` to unwind out of the kernel; runBlock turns it into a KernelFault. */
class KernelAbort extends Error {}

/** An abort message is a user string: at most this many characters of it go into the job's error. */
const MAX_MESSAGE_CHARS = 500;

export class KernelInstance {
  readonly buffers: KernelBuffers;
  private readonly memory: WebAssembly.Memory;
  private readonly rows: RowsFunction;
  private readonly input: number;
  private readonly args: number;
  private readonly output: number;
  private bytes: Uint8Array;
  private broken = false;

  /**
   * Instantiates the kernel (its start function runs now) and allocates its buffers. Throws a
   * KernelFault when either traps or the buffers do not fit the memory. `onFault` is called once, at
   * the first fault, so whoever caches the instance can drop it.
   */
  constructor(
    readonly kernel: KernelRef,
    buffers: KernelBuffers,
    memoryCapBytes: number,
    private readonly onFault: (instance: KernelInstance) => void = () => {},
  ) {
    this.buffers = buffers;
    const abort = (message: number, file: number, line: number, column: number): never => {
      throw new KernelAbort(
        `aborted: ${JSON.stringify(this.readString(message) ?? '')} at ${this.readString(file) ?? '(unknown file)'}:${line}:${column}`,
      );
    };
    const maximum = Math.min(capPages(memoryCapBytes), kernel.memory.maxPages ?? Number.POSITIVE_INFINITY);
    // The upload checked the minimum against the cap of the time; the cap may have been lowered since.
    if (kernel.memory.minPages > maximum) {
      throw this.fault(
        `failed to start: it needs ${kernel.memory.minPages} pages of memory, more than its cap of ${maximum} pages (ROWPOOL_KERNEL_MEMORY)`,
      );
    }
    this.memory = new WebAssembly.Memory({ initial: kernel.memory.minPages, maximum });
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(kernel.module, { env: { memory: this.memory, abort } });
    } catch (error) {
      throw this.fault(`failed to start: ${describe(error)}`);
    }
    this.rows = instance.exports.rowpool_rows as RowsFunction;
    const alloc = instance.exports.rowpool_alloc as (bytes: number) => number;
    this.input = this.allocate(alloc, buffers.inputBytes);
    this.args = this.allocate(alloc, buffers.argsBytes);
    this.output = this.allocate(alloc, buffers.outputBytes);
    this.bytes = new Uint8Array(this.memory.buffer);
  }

  /** Whether this instance's buffers take rows of `rowLength` values and `nArgs` args. */
  fits(rowLength: number, nArgs: number): boolean {
    return rowLength * 8 <= this.buffers.inputBytes && nArgs * 8 <= this.buffers.argsBytes;
  }

  /** How many rows of `rowLength` values one runBlock call may take. */
  blockRows(rowLength: number): number {
    return blockRows(this.buffers, rowLength);
  }

  /**
   * Runs the kernel on `count` rows of `n` float64 values at `src[off]`, dataset rows `firstRow` on,
   * and writes its `count` results to `out[slot]` on. `count` must be at most `blockRows(n)`.
   */
  runBlock(
    src: Float64Array,
    off: number,
    count: number,
    n: number,
    firstRow: number,
    args: Float64Array,
    out: Float64Array,
    slot: number,
  ): void {
    if (this.broken) throw new KernelFault(`kernel ${this.label} was dropped after a fault`);
    if (count > this.blockRows(n) || !this.fits(n, args.length)) {
      throw new RangeError(
        `a block of ${count} rows of ${n} values and ${args.length} args exceeds the buffers`,
      );
    }
    // Byte views rather than float64 views: the kernel's pointers need not be 8-byte aligned. These
    // are the only allocations per block (a few views per MiB-sized block), none per row.
    let memory = this.view();
    memory.set(new Uint8Array(src.buffer, src.byteOffset + off * 8, count * n * 8), this.input);
    memory.set(new Uint8Array(args.buffer, args.byteOffset, args.length * 8), this.args);
    let code: number;
    try {
      code = this.rows(this.input, count, n, firstRow, this.args, args.length, this.output);
    } catch (error) {
      throw this.fault(`${describe(error)} on ${rowsLabel(firstRow, count)}`);
    }
    if (code !== 0) throw this.fault(`returned error code ${code} on ${rowsLabel(firstRow, count)}`);
    // The kernel may have grown its memory, which replaces the buffer under the old view.
    memory = this.view();
    new Uint8Array(out.buffer, out.byteOffset + slot * 8, count * 8).set(
      memory.subarray(this.output, this.output + count * 8),
    );
  }

  private get label(): string {
    return `"${this.kernel.name}" (${this.kernel.id})`;
  }

  private view(): Uint8Array {
    if (this.bytes.buffer !== this.memory.buffer) this.bytes = new Uint8Array(this.memory.buffer);
    return this.bytes;
  }

  private allocate(alloc: (bytes: number) => number, bytes: number): number {
    let pointer: number;
    try {
      pointer = alloc(bytes) >>> 0;
    } catch (error) {
      throw this.fault(`${describe(error)} in rowpool_alloc(${bytes})`);
    }
    const size = this.memory.buffer.byteLength;
    if (pointer + bytes > size) {
      throw this.fault(
        `rowpool_alloc(${bytes}) returned ${pointer}, which does not leave ${bytes} bytes inside its ${size}-byte memory`,
      );
    }
    return pointer;
  }

  private fault(what: string): KernelFault {
    if (!this.broken) {
      this.broken = true;
      this.onFault(this);
    }
    return new KernelFault(`kernel ${this.label} ${what}`);
  }

  /** An AssemblyScript string: UTF-16LE at `pointer`, its byte length in the 4 bytes before it. */
  private readString(pointer: number): string | null {
    const buffer = this.memory.buffer;
    pointer >>>= 0;
    if (pointer < 4 || pointer > buffer.byteLength) return null;
    const length = new DataView(buffer).getUint32(pointer - 4, true);
    const end = Math.min(pointer + Math.min(length, MAX_MESSAGE_CHARS * 2), buffer.byteLength);
    return new TextDecoder('utf-16le').decode(new Uint8Array(buffer, pointer, (end - pointer) & ~1));
  }
}

function rowsLabel(firstRow: number, count: number): string {
  return count === 1 ? `row ${firstRow}` : `rows ${firstRow}-${firstRow + count - 1}`;
}

/** What a kernel's failure was, in words: traps by V8's name for them, abort with its message. */
function describe(error: unknown): string {
  if (error instanceof KernelAbort) return error.message;
  if (error instanceof RangeError && /call stack/i.test(error.message)) return 'trapped: stack overflow';
  if (error instanceof Error && error.constructor.name === 'RuntimeError') return `trapped: ${error.message}`;
  return `failed: ${error instanceof Error ? error.message : String(error)}`;
}
