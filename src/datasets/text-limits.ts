/**
 * The stated maxima of text uploads. Each bounds the memory one token can take while it is read,
 * so a hostile body is refused with a 400 naming the limit instead of exhausting the heap or stack.
 */
export const TEXT_LIMITS = {
  /** Characters in one CSV field or JSON number: far more than any float or 64-bit integer needs. */
  field: 100,
  /** Characters in one CSV line, the header included. */
  line: 1 << 20,
  /** Nesting depth of JSON "data": one list per dimension. */
  depth: 32,
  /** Characters in a JSON key or in "dtype". */
  key: 64,
} as const;

/** The most characters of a dataset's name, however it is given. */
export const MAX_NAME_LENGTH = 256;
