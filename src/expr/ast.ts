/** The parsed expression. Every node keeps the 1-based column it starts at, for error messages. */

export type BinaryOp = '+' | '-' | '*' | '/' | '//' | '%' | '**' | '&' | '|';
export type CompareOp = '<' | '<=' | '>' | '>=' | '==' | '!=';
export type UnaryOp = '-' | '+' | '~' | 'not';

export interface Keyword {
  readonly name: string;
  readonly value: Node;
  readonly column: number;
}

export type Node =
  | { readonly type: 'num'; readonly column: number; readonly value: number; readonly integer: boolean }
  | { readonly type: 'bool'; readonly column: number; readonly value: boolean }
  | { readonly type: 'name'; readonly column: number; readonly id: string }
  | { readonly type: 'unary'; readonly column: number; readonly op: UnaryOp; readonly operand: Node }
  | {
      readonly type: 'binary';
      readonly column: number;
      /** Where the operator is, for refusals that are about it. */
      readonly opColumn: number;
      readonly op: BinaryOp;
      readonly left: Node;
      readonly right: Node;
    }
  | {
      readonly type: 'compare';
      readonly column: number;
      readonly ops: readonly CompareOp[];
      readonly operands: readonly Node[];
    }
  | {
      readonly type: 'logic';
      readonly column: number;
      readonly op: 'and' | 'or';
      readonly left: Node;
      readonly right: Node;
    }
  | {
      readonly type: 'ifexp';
      readonly column: number;
      readonly body: Node;
      readonly test: Node;
      readonly orelse: Node;
    }
  | {
      readonly type: 'call';
      readonly column: number;
      readonly callee: Node;
      readonly args: readonly Node[];
      readonly keywords: readonly Keyword[];
    }
  | {
      readonly type: 'method';
      readonly column: number;
      readonly object: Node;
      readonly name: string;
      readonly args: readonly Node[];
      readonly keywords: readonly Keyword[];
    }
  | { readonly type: 'index'; readonly column: number; readonly object: Node; readonly index: Node }
  | {
      readonly type: 'slice';
      readonly column: number;
      readonly object: Node;
      readonly start: Node | undefined;
      readonly stop: Node | undefined;
      readonly step: Node | undefined;
    };
