/** What one expression may cost to parse and compile; each is checked where it is reached. */
export const EXPR_LIMITS = {
  /** UTF-8 bytes of the text. */
  maxTextBytes: 4096,
  /** Nodes of the parsed tree. */
  maxNodes: 256,
  /** Nesting of the parsed tree (and of parentheses). */
  maxDepth: 32,
  /** Keys of `params.args`. */
  maxArgs: 64,
} as const;
