/** Polls `read` until `check` passes or `ms` run out, and returns the last value read. */
export async function until<T>(
  read: () => Promise<T> | T,
  check: (value: T) => boolean,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
