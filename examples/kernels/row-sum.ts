// The sum of each row: the benchmark's kernel, to set against the built-in `sum` op. Four running
// sums (values i, i+1, i+2, i+3 of each group of four) let the CPU overlap the additions instead of
// waiting for each one; they are added as (s0 + s1) + (s2 + s3), then the leftover values in order.
// The built-in op adds pairwise, as NumPy does, so the last bits can differ from it.

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
  const groups = (<usize>(rowLength >> 2)) << 5;
  const rest = (<usize>(rowLength & 3)) << 3;
  for (let r = 0; r < rows; r++) {
    let s0: f64 = 0;
    let s1: f64 = 0;
    let s2: f64 = 0;
    let s3: f64 = 0;
    for (const end = p + groups; p < end; p += 32) {
      s0 += load<f64>(p);
      s1 += load<f64>(p, 8);
      s2 += load<f64>(p, 16);
      s3 += load<f64>(p, 24);
    }
    let sum = s0 + s1 + (s2 + s3);
    for (const end = p + rest; p < end; p += 8) sum += load<f64>(p);
    store<f64>(<usize>output + ((<usize>r) << 3), sum);
  }
  return 0;
}
