;; How many values in each row are greater than args[0] (0 when no args are given).
;; Written by hand in WebAssembly text; `npm run kernels` assembles it with wabt.
(module
  ;; The ABI: memory comes from rowpool, capped at ROWPOOL_KERNEL_MEMORY.
  (import "env" "memory" (memory 1))

  (global (export "rowpool_abi") i32 (i32.const 1))

  ;; The next free byte. The first KiB is left unused so that no buffer starts at address 0.
  (global $next (mut i32) (i32.const 1024))

  ;; A bump allocator, 8-byte aligned, growing the memory as it must. rowpool calls it once per
  ;; buffer right after instantiation; when the memory cannot grow it traps, which fails the job.
  (func (export "rowpool_alloc") (param $bytes i32) (result i32)
    (local $start i32)
    (local $end i32)
    (local.set $start (global.get $next))
    (local.set $end
      (i32.and (i32.add (i32.add (local.get $start) (local.get $bytes)) (i32.const 7)) (i32.const -8)))
    (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq
              (memory.grow
                (i32.sub
                  (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16))
                  (memory.size)))
              (i32.const -1))
          (then unreachable))))
    (global.set $next (local.get $end))
    (local.get $start))

  (func (export "rowpool_rows")
    (param $input i32) (param $rows i32) (param $rowLength i32) (param $firstRow i32)
    (param $args i32) (param $nArgs i32) (param $output i32) (result i32)
    (local $threshold f64)
    (local $p i32)
    (local $end i32)
    (local $count i32)
    (local $r i32)
    (if (i32.gt_s (local.get $nArgs) (i32.const 0))
      (then (local.set $threshold (f64.load (local.get $args)))))
    (local.set $p (local.get $input))
    (block $rows_done
      (loop $each_row
        (br_if $rows_done (i32.ge_s (local.get $r) (local.get $rows)))
        (local.set $count (i32.const 0))
        (local.set $end (i32.add (local.get $p) (i32.shl (local.get $rowLength) (i32.const 3))))
        (block $row_done
          (loop $each_value
            (br_if $row_done (i32.ge_u (local.get $p) (local.get $end)))
            (if (f64.gt (f64.load (local.get $p)) (local.get $threshold))
              (then (local.set $count (i32.add (local.get $count) (i32.const 1)))))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (br $each_value)))
        (f64.store
          (i32.add (local.get $output) (i32.shl (local.get $r) (i32.const 3)))
          (f64.convert_i32_u (local.get $count)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $each_row)))
    (i32.const 0)))
