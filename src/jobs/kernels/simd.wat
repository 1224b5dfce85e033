;; float64 row kernels over a dataset that lives in a shared WebAssembly.Memory, in f64x2 SIMD.
;;
;; The pairwise kernels give the same bits as their twins in pairwise.ts, which follow NumPy's
;; pairwise summation: fewer than 8 values are added in order to 0; 8 to 128 values go through 8
;; strided accumulators r0..r7 (element 8j+k into r_k, the first 8 values initialising them),
;; combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)), then the n%8 tail is added in order; longer
;; runs split at half the length rounded down to a multiple of 8 and add the two halves' sums.
;; The 8 accumulators are exactly the lanes of 4 f64x2 registers a=(r0,r1), b=(r2,r3),
;; c=(r4,r5), d=(r6,r7), and each lane sees the same additions in the same order as the scalar
;; code, so only the final combine needs its lanes taken apart. WebAssembly never fuses a
;; multiply with an add, so (x-m)*(x-m) rounds as it does in JS.
;;
;; Pointers are byte offsets into the memory and may be only 8-byte aligned, hence align=8 on the
;; vector loads. Loops stop on pointer equality rather than an unsigned comparison so a run that
;; ends exactly at the 4 GiB limit (where the end pointer wraps to 0: a vector slot can) still works.

(module
  (import "env" "memory" (memory 0 65536 shared))

  ;; ((a0+a1)+(b0+b1))+((c0+c1)+(d0+d1)): NumPy's combine of r0..r7.
  (func $combine (param $a v128) (param $b v128) (param $c v128) (param $d v128) (result f64)
    (f64.add
      (f64.add
        (f64.add (f64x2.extract_lane 0 (local.get $a)) (f64x2.extract_lane 1 (local.get $a)))
        (f64.add (f64x2.extract_lane 0 (local.get $b)) (f64x2.extract_lane 1 (local.get $b))))
      (f64.add
        (f64.add (f64x2.extract_lane 0 (local.get $c)) (f64x2.extract_lane 1 (local.get $c)))
        (f64.add (f64x2.extract_lane 0 (local.get $d)) (f64x2.extract_lane 1 (local.get $d))))))

  ;; ---------------------------------------------------------------------------------------------
  ;; sum: x

  ;; n <= 128.
  (func $sumLeaf (param $p i32) (param $n i32) (result f64)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $end i32)
    ;; Locals start at +0, which is where NumPy starts a run shorter than 8.
    (local $res f64)
    (if (i32.ge_u (local.get $n) (i32.const 8))
      (then
        (local.set $a (v128.load offset=0 align=8 (local.get $p)))
        (local.set $b (v128.load offset=16 align=8 (local.get $p)))
        (local.set $c (v128.load offset=32 align=8 (local.get $p)))
        (local.set $d (v128.load offset=48 align=8 (local.get $p)))
        (local.set $end
          (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 3))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (block $blocksDone
          (br_if $blocksDone (i32.eq (local.get $p) (local.get $end)))
          (loop $blocks
            (local.set $a (f64x2.add (local.get $a) (v128.load offset=0 align=8 (local.get $p))))
            (local.set $b (f64x2.add (local.get $b) (v128.load offset=16 align=8 (local.get $p))))
            (local.set $c (f64x2.add (local.get $c) (v128.load offset=32 align=8 (local.get $p))))
            (local.set $d (f64x2.add (local.get $d) (v128.load offset=48 align=8 (local.get $p))))
            (local.set $p (i32.add (local.get $p) (i32.const 64)))
            (br_if $blocks (i32.ne (local.get $p) (local.get $end)))))
        (local.set $res (call $combine (local.get $a) (local.get $b) (local.get $c) (local.get $d)))))
    (local.set $end
      (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const 7)) (i32.const 3))))
    (block $done
      (br_if $done (i32.eq (local.get $p) (local.get $end)))
      (loop $tail
        (local.set $res (f64.add (local.get $res) (f64.load (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br_if $tail (i32.ne (local.get $p) (local.get $end)))))
    (local.get $res))

  (func $sum (export "sum") (param $p i32) (param $n i32) (result f64)
    (local $n2 i32)
    (if (i32.le_u (local.get $n) (i32.const 128))
      (then (return (call $sumLeaf (local.get $p) (local.get $n)))))
    (local.set $n2 (i32.and (i32.shr_u (local.get $n) (i32.const 1)) (i32.const -8)))
    (f64.add
      (call $sum (local.get $p) (local.get $n2))
      (call $sum
        (i32.add (local.get $p) (i32.shl (local.get $n2) (i32.const 3)))
        (i32.sub (local.get $n) (local.get $n2)))))

  ;; ---------------------------------------------------------------------------------------------
  ;; sumSquares: x*x

  (func $sumSquaresLeaf (param $p i32) (param $n i32) (result f64)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128) (local $x v128)
    (local $end i32) (local $res f64) (local $s f64)
    (if (i32.ge_u (local.get $n) (i32.const 8))
      (then
        (local.set $a
          (f64x2.mul (local.tee $x (v128.load offset=0 align=8 (local.get $p))) (local.get $x)))
        (local.set $b
          (f64x2.mul (local.tee $x (v128.load offset=16 align=8 (local.get $p))) (local.get $x)))
        (local.set $c
          (f64x2.mul (local.tee $x (v128.load offset=32 align=8 (local.get $p))) (local.get $x)))
        (local.set $d
          (f64x2.mul (local.tee $x (v128.load offset=48 align=8 (local.get $p))) (local.get $x)))
        (local.set $end
          (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 3))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (block $blocksDone
          (br_if $blocksDone (i32.eq (local.get $p) (local.get $end)))
          (loop $blocks
            (local.set $a (f64x2.add (local.get $a)
              (f64x2.mul (local.tee $x (v128.load offset=0 align=8 (local.get $p))) (local.get $x))))
            (local.set $b (f64x2.add (local.get $b)
              (f64x2.mul (local.tee $x (v128.load offset=16 align=8 (local.get $p))) (local.get $x))))
            (local.set $c (f64x2.add (local.get $c)
              (f64x2.mul (local.tee $x (v128.load offset=32 align=8 (local.get $p))) (local.get $x))))
            (local.set $d (f64x2.add (local.get $d)
              (f64x2.mul (local.tee $x (v128.load offset=48 align=8 (local.get $p))) (local.get $x))))
            (local.set $p (i32.add (local.get $p) (i32.const 64)))
            (br_if $blocks (i32.ne (local.get $p) (local.get $end)))))
        (local.set $res (call $combine (local.get $a) (local.get $b) (local.get $c) (local.get $d)))))
    (local.set $end
      (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const 7)) (i32.const 3))))
    (block $done
      (br_if $done (i32.eq (local.get $p) (local.get $end)))
      (loop $tail
        (local.set $res (f64.add (local.get $res)
          (f64.mul (local.tee $s (f64.load (local.get $p))) (local.get $s))))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br_if $tail (i32.ne (local.get $p) (local.get $end)))))
    (local.get $res))

  (func $sumSquares (export "sumSquares") (param $p i32) (param $n i32) (result f64)
    (local $n2 i32)
    (if (i32.le_u (local.get $n) (i32.const 128))
      (then (return (call $sumSquaresLeaf (local.get $p) (local.get $n)))))
    (local.set $n2 (i32.and (i32.shr_u (local.get $n) (i32.const 1)) (i32.const -8)))
    (f64.add
      (call $sumSquares (local.get $p) (local.get $n2))
      (call $sumSquares
        (i32.add (local.get $p) (i32.shl (local.get $n2) (i32.const 3)))
        (i32.sub (local.get $n) (local.get $n2)))))

  ;; ---------------------------------------------------------------------------------------------
  ;; sumAbs: |x|

  (func $sumAbsLeaf (param $p i32) (param $n i32) (result f64)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $end i32) (local $res f64)
    (if (i32.ge_u (local.get $n) (i32.const 8))
      (then
        (local.set $a (f64x2.abs (v128.load offset=0 align=8 (local.get $p))))
        (local.set $b (f64x2.abs (v128.load offset=16 align=8 (local.get $p))))
        (local.set $c (f64x2.abs (v128.load offset=32 align=8 (local.get $p))))
        (local.set $d (f64x2.abs (v128.load offset=48 align=8 (local.get $p))))
        (local.set $end
          (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 3))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (block $blocksDone
          (br_if $blocksDone (i32.eq (local.get $p) (local.get $end)))
          (loop $blocks
            (local.set $a
              (f64x2.add (local.get $a) (f64x2.abs (v128.load offset=0 align=8 (local.get $p)))))
            (local.set $b
              (f64x2.add (local.get $b) (f64x2.abs (v128.load offset=16 align=8 (local.get $p)))))
            (local.set $c
              (f64x2.add (local.get $c) (f64x2.abs (v128.load offset=32 align=8 (local.get $p)))))
            (local.set $d
              (f64x2.add (local.get $d) (f64x2.abs (v128.load offset=48 align=8 (local.get $p)))))
            (local.set $p (i32.add (local.get $p) (i32.const 64)))
            (br_if $blocks (i32.ne (local.get $p) (local.get $end)))))
        (local.set $res (call $combine (local.get $a) (local.get $b) (local.get $c) (local.get $d)))))
    (local.set $end
      (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const 7)) (i32.const 3))))
    (block $done
      (br_if $done (i32.eq (local.get $p) (local.get $end)))
      (loop $tail
        (local.set $res (f64.add (local.get $res) (f64.abs (f64.load (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br_if $tail (i32.ne (local.get $p) (local.get $end)))))
    (local.get $res))

  (func $sumAbs (export "sumAbs") (param $p i32) (param $n i32) (result f64)
    (local $n2 i32)
    (if (i32.le_u (local.get $n) (i32.const 128))
      (then (return (call $sumAbsLeaf (local.get $p) (local.get $n)))))
    (local.set $n2 (i32.and (i32.shr_u (local.get $n) (i32.const 1)) (i32.const -8)))
    (f64.add
      (call $sumAbs (local.get $p) (local.get $n2))
      (call $sumAbs
        (i32.add (local.get $p) (i32.shl (local.get $n2) (i32.const 3)))
        (i32.sub (local.get $n) (local.get $n2)))))

  ;; ---------------------------------------------------------------------------------------------
  ;; sumSquaredDeviations: (x-mean)*(x-mean)

  (func $sumSquaredDeviationsLeaf (param $p i32) (param $n i32) (param $mean f64) (result f64)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128) (local $x v128) (local $m v128)
    (local $end i32) (local $res f64) (local $s f64)
    (if (i32.ge_u (local.get $n) (i32.const 8))
      (then
        (local.set $m (f64x2.splat (local.get $mean)))
        (local.set $a (f64x2.mul
          (local.tee $x (f64x2.sub (v128.load offset=0 align=8 (local.get $p)) (local.get $m)))
          (local.get $x)))
        (local.set $b (f64x2.mul
          (local.tee $x (f64x2.sub (v128.load offset=16 align=8 (local.get $p)) (local.get $m)))
          (local.get $x)))
        (local.set $c (f64x2.mul
          (local.tee $x (f64x2.sub (v128.load offset=32 align=8 (local.get $p)) (local.get $m)))
          (local.get $x)))
        (local.set $d (f64x2.mul
          (local.tee $x (f64x2.sub (v128.load offset=48 align=8 (local.get $p)) (local.get $m)))
          (local.get $x)))
        (local.set $end
          (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 3))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (block $blocksDone
          (br_if $blocksDone (i32.eq (local.get $p) (local.get $end)))
          (loop $blocks
            (local.set $a (f64x2.add (local.get $a) (f64x2.mul
              (local.tee $x (f64x2.sub (v128.load offset=0 align=8 (local.get $p)) (local.get $m)))
              (local.get $x))))
            (local.set $b (f64x2.add (local.get $b) (f64x2.mul
              (local.tee $x (f64x2.sub (v128.load offset=16 align=8 (local.get $p)) (local.get $m)))
              (local.get $x))))
            (local.set $c (f64x2.add (local.get $c) (f64x2.mul
              (local.tee $x (f64x2.sub (v128.load offset=32 align=8 (local.get $p)) (local.get $m)))
              (local.get $x))))
            (local.set $d (f64x2.add (local.get $d) (f64x2.mul
              (local.tee $x (f64x2.sub (v128.load offset=48 align=8 (local.get $p)) (local.get $m)))
              (local.get $x))))
            (local.set $p (i32.add (local.get $p) (i32.const 64)))
            (br_if $blocks (i32.ne (local.get $p) (local.get $end)))))
        (local.set $res (call $combine (local.get $a) (local.get $b) (local.get $c) (local.get $d)))))
    (local.set $end
      (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const 7)) (i32.const 3))))
    (block $done
      (br_if $done (i32.eq (local.get $p) (local.get $end)))
      (loop $tail
        (local.set $res (f64.add (local.get $res) (f64.mul
          (local.tee $s (f64.sub (f64.load (local.get $p)) (local.get $mean)))
          (local.get $s))))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br_if $tail (i32.ne (local.get $p) (local.get $end)))))
    (local.get $res))

  (func $sumSquaredDeviations (export "sumSquaredDeviations")
    (param $p i32) (param $n i32) (param $mean f64) (result f64)
    (local $n2 i32)
    (if (i32.le_u (local.get $n) (i32.const 128))
      (then (return (call $sumSquaredDeviationsLeaf (local.get $p) (local.get $n) (local.get $mean)))))
    (local.set $n2 (i32.and (i32.shr_u (local.get $n) (i32.const 1)) (i32.const -8)))
    (f64.add
      (call $sumSquaredDeviations (local.get $p) (local.get $n2) (local.get $mean))
      (call $sumSquaredDeviations
        (i32.add (local.get $p) (i32.shl (local.get $n2) (i32.const 3)))
        (i32.sub (local.get $n) (local.get $n2))
        (local.get $mean))))

  ;; ---------------------------------------------------------------------------------------------
  ;; sumSquaredDifferences: (x-y)*(x-y), y from a second run at byte offset q

  (func $sumSquaredDifferencesLeaf (param $p i32) (param $q i32) (param $n i32) (result f64)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128) (local $x v128)
    (local $end i32) (local $res f64) (local $s f64)
    (if (i32.ge_u (local.get $n) (i32.const 8))
      (then
        (local.set $a (f64x2.mul
          (local.tee $x (f64x2.sub
            (v128.load offset=0 align=8 (local.get $p)) (v128.load offset=0 align=8 (local.get $q))))
          (local.get $x)))
        (local.set $b (f64x2.mul
          (local.tee $x (f64x2.sub
            (v128.load offset=16 align=8 (local.get $p)) (v128.load offset=16 align=8 (local.get $q))))
          (local.get $x)))
        (local.set $c (f64x2.mul
          (local.tee $x (f64x2.sub
            (v128.load offset=32 align=8 (local.get $p)) (v128.load offset=32 align=8 (local.get $q))))
          (local.get $x)))
        (local.set $d (f64x2.mul
          (local.tee $x (f64x2.sub
            (v128.load offset=48 align=8 (local.get $p)) (v128.load offset=48 align=8 (local.get $q))))
          (local.get $x)))
        (local.set $end
          (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 3))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (local.set $q (i32.add (local.get $q) (i32.const 64)))
        (block $blocksDone
          (br_if $blocksDone (i32.eq (local.get $p) (local.get $end)))
          (loop $blocks
            (local.set $a (f64x2.add (local.get $a) (f64x2.mul
              (local.tee $x (f64x2.sub
                (v128.load offset=0 align=8 (local.get $p)) (v128.load offset=0 align=8 (local.get $q))))
              (local.get $x))))
            (local.set $b (f64x2.add (local.get $b) (f64x2.mul
              (local.tee $x (f64x2.sub
                (v128.load offset=16 align=8 (local.get $p)) (v128.load offset=16 align=8 (local.get $q))))
              (local.get $x))))
            (local.set $c (f64x2.add (local.get $c) (f64x2.mul
              (local.tee $x (f64x2.sub
                (v128.load offset=32 align=8 (local.get $p)) (v128.load offset=32 align=8 (local.get $q))))
              (local.get $x))))
            (local.set $d (f64x2.add (local.get $d) (f64x2.mul
              (local.tee $x (f64x2.sub
                (v128.load offset=48 align=8 (local.get $p)) (v128.load offset=48 align=8 (local.get $q))))
              (local.get $x))))
            (local.set $p (i32.add (local.get $p) (i32.const 64)))
            (local.set $q (i32.add (local.get $q) (i32.const 64)))
            (br_if $blocks (i32.ne (local.get $p) (local.get $end)))))
        (local.set $res (call $combine (local.get $a) (local.get $b) (local.get $c) (local.get $d)))))
    (local.set $end
      (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const 7)) (i32.const 3))))
    (block $done
      (br_if $done (i32.eq (local.get $p) (local.get $end)))
      (loop $tail
        (local.set $res (f64.add (local.get $res) (f64.mul
          (local.tee $s (f64.sub (f64.load (local.get $p)) (f64.load (local.get $q))))
          (local.get $s))))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (local.set $q (i32.add (local.get $q) (i32.const 8)))
        (br_if $tail (i32.ne (local.get $p) (local.get $end)))))
    (local.get $res))

  (func $sumSquaredDifferences (export "sumSquaredDifferences")
    (param $p i32) (param $q i32) (param $n i32) (result f64)
    (local $n2 i32) (local $skip i32)
    (if (i32.le_u (local.get $n) (i32.const 128))
      (then (return (call $sumSquaredDifferencesLeaf (local.get $p) (local.get $q) (local.get $n)))))
    (local.set $n2 (i32.and (i32.shr_u (local.get $n) (i32.const 1)) (i32.const -8)))
    (local.set $skip (i32.shl (local.get $n2) (i32.const 3)))
    (f64.add
      (call $sumSquaredDifferences (local.get $p) (local.get $q) (local.get $n2))
      (call $sumSquaredDifferences
        (i32.add (local.get $p) (local.get $skip))
        (i32.add (local.get $q) (local.get $skip))
        (i32.sub (local.get $n) (local.get $n2)))))

  ;; ---------------------------------------------------------------------------------------------
  ;; dot: sum of x*y, not pairwise. Rounding order, which dotInLanes in simd.ts repeats: 8 scalar
  ;; accumulators s0..s7 start at +0 and element 8j+k of every whole block of 8 is added into s_k;
  ;; as lanes a=(s0,s1), b=(s2,s3), c=(s4,s5), d=(s6,s7) they are combined lane-wise as
  ;; v=(a+b)+(c+d), giving total = ((s0+s2)+(s4+s6)) + ((s1+s3)+(s5+s7)); then the n%8 tail is
  ;; added to the total in order.

  (func $dot (export "dot") (param $p i32) (param $q i32) (param $n i32) (result f64)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $end i32) (local $res f64)
    (local.set $end
      (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 3))))
    (block $blocksDone
      (br_if $blocksDone (i32.eq (local.get $p) (local.get $end)))
      (loop $blocks
        (local.set $a (f64x2.add (local.get $a) (f64x2.mul
          (v128.load offset=0 align=8 (local.get $p)) (v128.load offset=0 align=8 (local.get $q)))))
        (local.set $b (f64x2.add (local.get $b) (f64x2.mul
          (v128.load offset=16 align=8 (local.get $p)) (v128.load offset=16 align=8 (local.get $q)))))
        (local.set $c (f64x2.add (local.get $c) (f64x2.mul
          (v128.load offset=32 align=8 (local.get $p)) (v128.load offset=32 align=8 (local.get $q)))))
        (local.set $d (f64x2.add (local.get $d) (f64x2.mul
          (v128.load offset=48 align=8 (local.get $p)) (v128.load offset=48 align=8 (local.get $q)))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (local.set $q (i32.add (local.get $q) (i32.const 64)))
        (br_if $blocks (i32.ne (local.get $p) (local.get $end)))))
    (local.set $a
      (f64x2.add (f64x2.add (local.get $a) (local.get $b)) (f64x2.add (local.get $c) (local.get $d))))
    (local.set $res (f64.add (f64x2.extract_lane 0 (local.get $a)) (f64x2.extract_lane 1 (local.get $a))))
    (local.set $end
      (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const 7)) (i32.const 3))))
    (block $done
      (br_if $done (i32.eq (local.get $p) (local.get $end)))
      (loop $tail
        (local.set $res (f64.add (local.get $res)
          (f64.mul (f64.load (local.get $p)) (f64.load (local.get $q)))))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (local.set $q (i32.add (local.get $q) (i32.const 8)))
        (br_if $tail (i32.ne (local.get $p) (local.get $end)))))
    (local.get $res))
;; ---------------------------------------------------------------------------------------------
  ;; flatSum: the plainest SIMD pass over n values, rounding as it likes. The benchmark's ceiling
  ;; (the fastest a thread reads memory), not a kernel: nothing in the service calls it.

  (func $flatSum (export "flatSum") (param $p i32) (param $n i32) (result f64)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $end i32) (local $res f64)
    (local.set $end
      (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 3))))
    (block $blocksDone
      (br_if $blocksDone (i32.eq (local.get $p) (local.get $end)))
      (loop $blocks
        (local.set $a (f64x2.add (local.get $a) (v128.load offset=0 align=8 (local.get $p))))
        (local.set $b (f64x2.add (local.get $b) (v128.load offset=16 align=8 (local.get $p))))
        (local.set $c (f64x2.add (local.get $c) (v128.load offset=32 align=8 (local.get $p))))
        (local.set $d (f64x2.add (local.get $d) (v128.load offset=48 align=8 (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br_if $blocks (i32.ne (local.get $p) (local.get $end)))))
    (local.set $a
      (f64x2.add (f64x2.add (local.get $a) (local.get $b)) (f64x2.add (local.get $c) (local.get $d))))
    (local.set $res (f64.add (f64x2.extract_lane 0 (local.get $a)) (f64x2.extract_lane 1 (local.get $a))))
    (local.set $end
      (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const 7)) (i32.const 3))))
    (block $done
      (br_if $done (i32.eq (local.get $p) (local.get $end)))
      (loop $tail
        (local.set $res (f64.add (local.get $res) (f64.load (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br_if $tail (i32.ne (local.get $p) (local.get $end)))))
    (local.get $res))
)
