/**
 * Collects generated statements and hands out generated names. Names are a letter and a counter,
 * so nothing from the expression text ever becomes an identifier in the source.
 */
import { ExprError } from './errors.js';
import type { FAIL } from './runtime.js';
import { formatNumber } from './values.js';

export type FailCode = (typeof FAIL)[keyof typeof FAIL];

export class Emitter {
  private lines: string[] = [];
  private counter = 0;
  /** Inside a branch that may not run (`a if c else b`, `and`, `or`): certain errors wait for run time. */
  private lazy = 0;
  /** Factory-level scratch arrays, grown once and reused by every row. */
  readonly scratch: string[] = [];
  /** Factory-level two-slot arrays for `where` (see newSelect). */
  readonly selects: string[] = [];

  fresh(prefix: 't' | 'k' | 'm' | 'p' | 'z' | 'y' | 'c' | 'e' | 'r' | 'w'): string {
    return `${prefix}${++this.counter}`;
  }

  /**
   * A two-slot array for a branchless select: both values are stored and the condition's 0/1
   * picks one, which is faster than a mispredicted branch and computes both sides, as NumPy does.
   */
  newSelect(): string {
    const name = `W${++this.counter}`;
    this.selects.push(name);
    return name;
  }

  newScratch(): string {
    const name = `S${++this.counter}`;
    this.scratch.push(name);
    return name;
  }

  emit(line: string): void {
    this.lines.push(line);
  }

  /** Runs `body` and returns what it emitted instead of emitting it; `lazy` marks a branch. */
  capture(body: () => void, lazy: boolean): string[] {
    const saved = this.lines;
    this.lines = [];
    if (lazy) this.lazy++;
    try {
      body();
      return this.lines;
    } finally {
      if (lazy) this.lazy--;
      this.lines = saved;
    }
  }

  emitAll(lines: readonly string[]): void {
    for (const line of lines) this.lines.push(line);
  }

  /** The row error NumPy raises, as code that runs when the row gets here. */
  failLine(code: FailCode, a: string, b: string): string {
    return `fail(i, ${formatNumber(code)}, ${a}, ${b});`;
  }

  /**
   * An error that is certain from the text and the shape: refused now, unless it sits in a branch
   * that may never run, where it becomes the row error NumPy would raise there.
   */
  certain(column: number, message: string, code: FailCode, a: number, b: number): void {
    if (this.lazy === 0) throw new ExprError(message, column);
    this.emit(this.failLine(code, formatNumber(a), formatNumber(b)));
  }

  body(): string[] {
    return this.lines;
  }
}
