// The sum of each row, added left to right: the benchmark's kernel, to set against the built-in
// `sum` op (which adds pairwise, as NumPy does, so the last bits can differ).

// rowpool's kernel ABI version.
export const rowpool_abi: i32 = 1;

// Called once per instance for the input, args and output buffers; the stub runtime never frees.
export function rowpool_alloc(bytes: i32): i32 {
  return <i32>heap.alloc(<usize>bytes);
}

export function rowpool_rows(
  input: i32,
  rows: i32,
  rowLength: i32,
  _firstRow: i32,
  _args: i32,
  _nArgs: i32,
  output: i32,
): i32 {
  let p = <usize>input;
  for (let r = 0; r < rows; r++) {
    let sum: f64 = 0;
    const end = p + ((<usize>rowLength) << 3);
    for (; p < end; p += 8) sum += load<f64>(p);
    store<f64>(<usize>output + ((<usize>r) << 3), sum);
  }
  return 0;
}
