;; The benchmark's read ceiling: the fastest a thread reads a run of memory, whatever it holds.
;; Four independent accumulators and 64 bytes per loop iteration keep the loads, not the adds, the
;; limit; integer adds cannot meet a denormal or NaN pattern in the data, so the bytes of any dtype
;; read at the same speed. A wider loop (eight accumulators, 128 bytes an iteration) read no faster
;; on the benchmark's machine, to within 3%. Not part of the service: `assemble` in scripts/wasm.ts
;; builds it when the benchmark starts.

(module
  (import "env" "memory" (memory 0 65536 shared))

  ;; Adds up the i64 lanes of the `bytes` bytes at `p` (wrapping), and the bytes of a tail shorter
  ;; than 64 one by one; the result only keeps the loads from being optimised away.
  (func (export "flatRead") (param $p i32) (param $bytes i32) (result f64)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $end i32) (local $tail i64)
    (local.set $end
      (i32.add (local.get $p) (i32.and (local.get $bytes) (i32.const -64))))
    (block $blocksDone
      (br_if $blocksDone (i32.eq (local.get $p) (local.get $end)))
      (loop $blocks
        (local.set $a (i64x2.add (local.get $a) (v128.load offset=0 align=1 (local.get $p))))
        (local.set $b (i64x2.add (local.get $b) (v128.load offset=16 align=1 (local.get $p))))
        (local.set $c (i64x2.add (local.get $c) (v128.load offset=32 align=1 (local.get $p))))
        (local.set $d (i64x2.add (local.get $d) (v128.load offset=48 align=1 (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br_if $blocks (i32.ne (local.get $p) (local.get $end)))))
    (local.set $end (i32.add (local.get $p) (i32.and (local.get $bytes) (i32.const 63))))
    (block $done
      (br_if $done (i32.eq (local.get $p) (local.get $end)))
      (loop $bytesLeft
        (local.set $tail (i64.add (local.get $tail) (i64.load8_u (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br_if $bytesLeft (i32.ne (local.get $p) (local.get $end)))))
    (local.set $a
      (i64x2.add (i64x2.add (local.get $a) (local.get $b)) (i64x2.add (local.get $c) (local.get $d))))
    (f64.convert_i64_u
      (i64.add (local.get $tail)
        (i64.add (i64x2.extract_lane 0 (local.get $a)) (i64x2.extract_lane 1 (local.get $a))))))
)
