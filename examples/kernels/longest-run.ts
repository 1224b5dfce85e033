// The length of the longest strictly increasing run in each row: [1, 2, 0, 3, 4, 5] gives 4.
// A loop along the row that no single NumPy expression says. A row of length 0 gives 0; NaN never
// compares greater, so it ends a run.

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
  let row = <usize>input;
  const rowBytes = (<usize>rowLength) << 3;
  for (let r = 0; r < rows; r++) {
    let best = rowLength > 0 ? 1 : 0;
    let run = 1;
    let previous = load<f64>(row);
    for (let i = 1; i < rowLength; i++) {
      const value = load<f64>(row + ((<usize>i) << 3));
      if (value > previous) {
        run++;
        if (run > best) best = run;
      } else {
        run = 1;
      }
      previous = value;
    }
    store<f64>(<usize>output + ((<usize>r) << 3), <f64>best);
    row += rowBytes;
  }
  return 0;
}
