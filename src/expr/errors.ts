/**
 * The two ways an expression fails. ExprError is a refusal of the text itself (the service answers
 * 400); ExprRowError is NumPy raising while computing one dataset row (the job fails).
 */

/** A refusal of the text: `column` is 1-based, or 0 when the problem is not at a place in the text. */
export class ExprError extends Error {
  readonly column: number;

  constructor(message: string, column: number) {
    super(column > 0 ? `${message} (column ${column})` : message);
    this.name = 'ExprError';
    this.column = column;
  }
}

/** NumPy would raise while computing dataset row `row`. */
export class ExprRowError extends Error {
  readonly row: number;

  constructor(row: number, message: string) {
    super(`row ${row}: ${message}`);
    this.name = 'ExprRowError';
    this.row = row;
  }
}
