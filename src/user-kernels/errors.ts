/**
 * The two ways a user kernel goes wrong: refused at upload (the module is not a v1 kernel), or failed
 * while running (a trap, abort, error code or a row too long for its memory). Both carry a message
 * meant for the person who wrote the kernel.
 */

/** A module refused at upload; Fastify answers it as a 400 with this code and message. */
export class InvalidKernelModule extends Error {
  override name = 'InvalidKernelModule';
  readonly statusCode = 400;
  readonly code = 'ROWPOOL_INVALID_KERNEL';
}

/**
 * A kernel that failed on some rows. It is thrown inside a pool worker, and an error crosses the
 * thread boundary as its name and message only, so the message says everything: the kernel, what
 * went wrong and on which rows.
 */
export class KernelFault extends Error {
  override name = 'KernelFault';
}
