;; nsfw_kernels: WebAssembly SIMD128 kernels for the hot ops of MobileNetV2.
;;
;; The module owns no memory: it imports Go's own linear memory ("env" "mem"),
;; so the Go engine passes byte offsets of its slices and nothing is copied.
;; Go declares these exports with //go:wasmimport nsfw_kernels <name> in
;; internal/kernels/simd_wasm.go, which names each kernel's reference loop
;; (kernels.GemmRef, ...); JS trampolines forward the calls, and
;; build/wasmtest/run.mjs links the module the way the product does.
;;
;; Conventions: pointers are i32 byte offsets; matrices are row-major
;; float32; tensors are NHWC with batch 1; a bias pointer of 0 means no bias;
;; the activation is a clamp to [lo, hi] written as
;; pmin(pmax(v, lo), hi), which is exactly Go's `if v < lo {v = lo} else if
;; v > hi {v = hi}` (NaN passes through, as in the reference).
;;
;; Names say what and how, XNNPACK style: f32_gemm_4x8__wasmsimd_splat is a
;; float32 GEMM whose register tile is 4 rows × 8 columns, with each A value
;; broadcast (splat) across a vector. Measured in V8 (Node 20, x86-64): a
;; tile with more than eight v128 accumulators (5x8, 6x8, 4x12) spills and
;; runs 35–50% slower, and unrolling k by 2 is slower too.
;;
;; Rebuild: see README.md (wat2wasm, deterministic, no debug names).
(module
  (import "env" "mem" (memory 0))

  ;; version reports the ABI version of these exports; bump it when an
  ;; export changes incompatibly. The JS host stubs it to return 0 when the
  ;; browser lacks SIMD128, and Go then keeps its own kernels.
  (func (export "version") (result i32)
    (i32.const 2))

  ;; row_block is the rows of A per block of f32_gemm_4x8__wasmsimd_splat:
  ;; the block (rows×k floats) stays within 64 KB, for L2 on any CPU; a
  ;; multiple of 4 rows, at least 4. (On the Zen 5 we measured, with 1 MB
  ;; of L2, the block size made no difference between 4 rows and all.)
  (func $row_block (param $k i32) (result i32)
    (local $r i32)
    (local.set $r (i32.and (i32.div_u (i32.const 16384) (i32.add (local.get $k) (i32.const 1))) (i32.const -4)))
    (select (local.get $r) (i32.const 4) (i32.gt_s (local.get $r) (i32.const 4))))

;; gemm: C[m×n] = clamp(A[m×k]·B[k×n] + bias[n], lo, hi), all row-major
  ;; (f32_gemm_4x8__wasmsimd_splat). Register tile: 4 rows × 8 columns, 8
  ;; v128 accumulators; each step of k loads two vectors of a B row and
  ;; splats one A value per tile row. The n%8 columns left over go to
  ;; f32_gemm_edge__scalar.
  ;;
  ;; Loop order, outside in: blocks of row_block(k) rows of A, 8-column
  ;; panels of B (k×8, in L1 while the block's tiles use it), tiles of 4
  ;; rows. The last tile of a block may have 1–3 rows: its missing rows
  ;; re-read row 0 (their A offsets are 0) and are not stored, so one tile
  ;; shape serves every m, including m = 1 (dense).
  ;;
  ;; Packing B into contiguous k×8 panels at load time was measured too:
  ;; 5–15% faster on some shapes in isolation, 1–2% slower over the whole
  ;; model, so B is read in place.
  (func $f32_gemm_4x8__wasmsimd_splat (export "gemm")
    (param $c i32) (param $a i32) (param $b i32) (param $bias i32)
    (param $m i32) (param $k i32) (param $n i32) (param $lo f32) (param $hi f32)
    (local $ks i32) (local $ns i32) (local $nfull i32) (local $mleft i32) (local $mb i32) (local $mr i32)
    (local $d1 i32) (local $d2 i32) (local $d3 i32)
    (local $ablk i32) (local $cblk i32) (local $arow i32) (local $crow i32) (local $j i32) (local $panel i32)
    (local $pa i32) (local $pe i32) (local $pb i32) (local $pc i32)
    (local $vlo v128) (local $vhi v128) (local $vb0 v128) (local $vb1 v128)
    (local $x v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $mc i32)
    (if (i32.or (i32.le_s (local.get $m) (i32.const 0)) (i32.le_s (local.get $n) (i32.const 0)))
      (then (return)))
    (local.set $ks (i32.shl (local.get $k) (i32.const 2)))
    (local.set $ns (i32.shl (local.get $n) (i32.const 2)))
    (local.set $mc (call $row_block (local.get $k)))
    (local.set $nfull (i32.and (local.get $n) (i32.const -8)))
    (local.set $vlo (f32x4.splat (local.get $lo)))
    (local.set $vhi (f32x4.splat (local.get $hi)))
    (local.set $ablk (local.get $a))
    (local.set $cblk (local.get $c))
    (local.set $mleft (local.get $m))
    (loop $blocks
      (local.set $mb (select (local.get $mc) (local.get $mleft) (i32.lt_s (local.get $mc) (local.get $mleft))))
      (local.set $j (i32.const 0))
      (local.set $panel (local.get $b))
      (block $cols_done
        (loop $cols
          (br_if $cols_done (i32.ge_s (local.get $j) (local.get $nfull)))
          (local.set $vb0 (v128.const i32x4 0 0 0 0))
          (local.set $vb1 (v128.const i32x4 0 0 0 0))
          (if (local.get $bias)
            (then
              (local.set $vb0 (v128.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))
              (local.set $vb1 (v128.load offset=16 (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $mr (local.get $mb))
          (local.set $arow (local.get $ablk))
          (local.set $crow (i32.add (local.get $cblk) (i32.shl (local.get $j) (i32.const 2))))
          (loop $rows
            ;; Byte offsets of rows 1..3 from row 0; 0 for rows past the block.
            (local.set $d1 (select (local.get $ks) (i32.const 0) (i32.gt_s (local.get $mr) (i32.const 1))))
            (local.set $d2 (select (i32.shl (local.get $ks) (i32.const 1)) (i32.const 0) (i32.gt_s (local.get $mr) (i32.const 2))))
            (local.set $d3 (select (i32.mul (local.get $ks) (i32.const 3)) (i32.const 0) (i32.gt_s (local.get $mr) (i32.const 3))))
            (local.set $c00 (local.get $vb0)) (local.set $c01 (local.get $vb1))
            (local.set $c10 (local.get $vb0)) (local.set $c11 (local.get $vb1))
            (local.set $c20 (local.get $vb0)) (local.set $c21 (local.get $vb1))
            (local.set $c30 (local.get $vb0)) (local.set $c31 (local.get $vb1))
            (local.set $pa (local.get $arow))
            (local.set $pe (i32.add (local.get $arow) (local.get $ks)))
            (local.set $pb (local.get $panel))
            (block $k_done
              (br_if $k_done (i32.eq (local.get $pa) (local.get $pe)))
              (loop $kl
                (local.set $b0 (v128.load (local.get $pb)))
                (local.set $b1 (v128.load offset=16 (local.get $pb)))
                (local.set $x (v128.load32_splat (local.get $pa)))
                (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
                (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
                (local.set $x (v128.load32_splat (i32.add (local.get $pa) (local.get $d1))))
                (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
                (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
                (local.set $x (v128.load32_splat (i32.add (local.get $pa) (local.get $d2))))
                (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
                (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
                (local.set $x (v128.load32_splat (i32.add (local.get $pa) (local.get $d3))))
                (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
                (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
                (local.set $pa (i32.add (local.get $pa) (i32.const 4)))
                (local.set $pb (i32.add (local.get $pb) (local.get $ns)))
                (br_if $kl (i32.ne (local.get $pa) (local.get $pe)))))
            (local.set $pc (local.get $crow))
            (v128.store (local.get $pc) (f32x4.pmin (f32x4.pmax (local.get $c00) (local.get $vlo)) (local.get $vhi)))
            (v128.store offset=16 (local.get $pc) (f32x4.pmin (f32x4.pmax (local.get $c01) (local.get $vlo)) (local.get $vhi)))
            (if (i32.gt_s (local.get $mr) (i32.const 1))
              (then
                (local.set $pc (i32.add (local.get $pc) (local.get $ns)))
                (v128.store (local.get $pc) (f32x4.pmin (f32x4.pmax (local.get $c10) (local.get $vlo)) (local.get $vhi)))
                (v128.store offset=16 (local.get $pc) (f32x4.pmin (f32x4.pmax (local.get $c11) (local.get $vlo)) (local.get $vhi)))))
            (if (i32.gt_s (local.get $mr) (i32.const 2))
              (then
                (local.set $pc (i32.add (local.get $pc) (local.get $ns)))
                (v128.store (local.get $pc) (f32x4.pmin (f32x4.pmax (local.get $c20) (local.get $vlo)) (local.get $vhi)))
                (v128.store offset=16 (local.get $pc) (f32x4.pmin (f32x4.pmax (local.get $c21) (local.get $vlo)) (local.get $vhi)))))
            (if (i32.gt_s (local.get $mr) (i32.const 3))
              (then
                (local.set $pc (i32.add (local.get $pc) (local.get $ns)))
                (v128.store (local.get $pc) (f32x4.pmin (f32x4.pmax (local.get $c30) (local.get $vlo)) (local.get $vhi)))
                (v128.store offset=16 (local.get $pc) (f32x4.pmin (f32x4.pmax (local.get $c31) (local.get $vlo)) (local.get $vhi)))))
            (local.set $arow (i32.add (local.get $arow) (i32.shl (local.get $ks) (i32.const 2))))
            (local.set $crow (i32.add (local.get $crow) (i32.shl (local.get $ns) (i32.const 2))))
            (local.set $mr (i32.sub (local.get $mr) (i32.const 4)))
            (br_if $rows (i32.gt_s (local.get $mr) (i32.const 0))))
          (local.set $j (i32.add (local.get $j) (i32.const 8)))
          (local.set $panel (i32.add (local.get $panel) (i32.const 32)))
          (br $cols)))
      (local.set $ablk (i32.add (local.get $ablk) (i32.mul (local.get $mb) (local.get $ks))))
      (local.set $cblk (i32.add (local.get $cblk) (i32.mul (local.get $mb) (local.get $ns))))
      (local.set $mleft (i32.sub (local.get $mleft) (local.get $mb)))
      (br_if $blocks (i32.gt_s (local.get $mleft) (i32.const 0))))
    (if (i32.lt_s (local.get $nfull) (local.get $n))
      (then
        (call $f32_gemm_edge__scalar
          (i32.add (local.get $c) (i32.shl (local.get $nfull) (i32.const 2)))
          (local.get $a)
          (i32.add (local.get $b) (i32.shl (local.get $nfull) (i32.const 2)))
          (select (i32.add (local.get $bias) (i32.shl (local.get $nfull) (i32.const 2))) (i32.const 0) (local.get $bias))
          (local.get $m) (local.get $k) (i32.sub (local.get $n) (local.get $nfull))
          (local.get $ns) (local.get $lo) (local.get $hi)))))

  ;; f32_gemm_edge__scalar computes the last w < 8 columns of a GEMM one
  ;; float at a time; rows of B and of C are $ns bytes apart. It sums in
  ;; the vector tile's order, so all columns of C are rounded alike.
  (func $f32_gemm_edge__scalar
    (param $c i32) (param $a i32) (param $b i32) (param $bias i32)
    (param $m i32) (param $k i32) (param $w i32) (param $ns i32)
    (param $lo f32) (param $hi f32)
    (local $i i32) (local $jj i32) (local $p i32) (local $ks i32) (local $pa i32) (local $pb i32)
    (local $s f32)
    (local.set $ks (i32.shl (local.get $k) (i32.const 2)))
    (loop $rows
      (local.set $jj (i32.const 0))
      (loop $cols
        (local.set $s (f32.const 0))
        (if (local.get $bias)
          (then (local.set $s (f32.load (i32.add (local.get $bias) (i32.shl (local.get $jj) (i32.const 2)))))))
        (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $ks))))
        (local.set $pb (i32.add (local.get $b) (i32.shl (local.get $jj) (i32.const 2))))
        (local.set $p (i32.const 0))
        (block $k_done
          (loop $kl
            (br_if $k_done (i32.ge_s (local.get $p) (local.get $k)))
            (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $pa)) (f32.load (local.get $pb)))))
            (local.set $pa (i32.add (local.get $pa) (i32.const 4)))
            (local.set $pb (i32.add (local.get $pb) (local.get $ns)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $kl)))
        (f32.store
          (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ns))) (i32.shl (local.get $jj) (i32.const 2)))
          (call $clamp (local.get $s) (local.get $lo) (local.get $hi)))
        (local.set $jj (i32.add (local.get $jj) (i32.const 1)))
        (br_if $cols (i32.lt_s (local.get $jj) (local.get $w))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $rows (i32.lt_s (local.get $i) (local.get $m)))))

  ;; clamp is Go's clamp: v < lo ? lo : v > hi ? hi : v.
  (func $clamp (param $v f32) (param $lo f32) (param $hi f32) (result f32)
    (local.set $v (select (local.get $lo) (local.get $v) (f32.lt (local.get $v) (local.get $lo))))
    (select (local.get $hi) (local.get $v) (f32.gt (local.get $v) (local.get $hi))))

  ;; add: out[i] = clamp(a[i] + b[i], lo, hi) for i < n (residual
  ;; connections), 4 floats at a time, then one at a time.
  (func (export "add")
    (param $out i32) (param $a i32) (param $b i32) (param $n i32) (param $lo f32) (param $hi f32)
    (local $end i32) (local $vend i32) (local $vlo v128) (local $vhi v128)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (local.set $vlo (f32x4.splat (local.get $lo)))
    (local.set $vhi (f32x4.splat (local.get $hi)))
    (block $vec_done
      (loop $vec
        (br_if $vec_done (i32.ge_u (local.get $out) (local.get $vend)))
        (v128.store (local.get $out)
          (f32x4.pmin (f32x4.pmax (f32x4.add (v128.load (local.get $a)) (v128.load (local.get $b))) (local.get $vlo)) (local.get $vhi)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $vec)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (f32.store (local.get $out)
          (call $clamp (f32.add (f32.load (local.get $a)) (f32.load (local.get $b))) (local.get $lo) (local.get $hi)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (br $one))))

  ;; affine: out[i] = in[i]*scale + shift for i < n, the product rounded to
  ;; float32 before the sum (no fused multiply-add), as kernels.AffineRef.
  (func (export "affine")
    (param $out i32) (param $in i32) (param $n i32) (param $scale f32) (param $shift f32)
    (local $end i32) (local $vend i32) (local $vs v128) (local $vt v128)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (local.set $vs (f32x4.splat (local.get $scale)))
    (local.set $vt (f32x4.splat (local.get $shift)))
    (block $vec_done
      (loop $vec
        (br_if $vec_done (i32.ge_u (local.get $out) (local.get $vend)))
        (v128.store (local.get $out) (f32x4.add (f32x4.mul (v128.load (local.get $in)) (local.get $vs)) (local.get $vt)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $in (i32.add (local.get $in) (i32.const 16)))
        (br $vec)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (f32.store (local.get $out) (f32.add (f32.mul (f32.load (local.get $in)) (local.get $scale)) (local.get $shift)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $in (i32.add (local.get $in) (i32.const 4)))
        (br $one))))

  ;; dequantize turns n 8-bit codes at q into float32 weights at out, as
  ;; kernels.DequantizeRef: w = f32(f64(code)*scale + min), each step
  ;; rounded once (f64x2 lanes; no FMA in SIMD128, so none to avoid), then,
  ;; when mul is not 0, w*mul[i mod c] in f32 (the c channels are the last
  ;; axis; n is a multiple of c). It runs once per model load, in V8's
  ;; baseline tier, where Go's scalar loop cost tens of milliseconds.
  (func (export "dequantize")
    (param $out i32) (param $q i32) (param $n i32) (param $scale f64) (param $min f64) (param $mul i32) (param $c i32)
    (local $end i32) (local $row_end i32) (local $vec_end i32) (local $m i32)
    (local $vscale v128) (local $vmin v128) (local $x v128) (local $w v128)
    (local.set $end (i32.add (local.get $q) (local.get $n)))
    (if (i32.eqz (local.get $mul)) (then (local.set $c (local.get $n))))
    (local.set $vscale (f64x2.splat (local.get $scale)))
    (local.set $vmin (f64x2.splat (local.get $min)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $q) (local.get $end)))
        (br_if $done (i32.le_s (local.get $c) (i32.const 0)))
        (local.set $row_end (i32.add (local.get $q) (local.get $c)))
        (local.set $vec_end (i32.add (local.get $q) (i32.and (local.get $c) (i32.const -4))))
        (local.set $m (local.get $mul))
        (block $vec_done
          (loop $vec
            (br_if $vec_done (i32.ge_u (local.get $q) (local.get $vec_end)))
            ;; Four codes widened to u32 lanes; two f64x2 halves; back to f32x4.
            (local.set $x (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (local.get $q)))))
            (local.set $w (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
              (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (f64x2.convert_low_i32x4_u (local.get $x)) (local.get $vscale)) (local.get $vmin)))
              (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (f64x2.convert_low_i32x4_u
                (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))) (local.get $vscale)) (local.get $vmin)))))
            (if (local.get $mul)
              (then
                (local.set $w (f32x4.mul (local.get $w) (v128.load (local.get $m))))
                (local.set $m (i32.add (local.get $m) (i32.const 16)))))
            (v128.store (local.get $out) (local.get $w))
            (local.set $q (i32.add (local.get $q) (i32.const 4)))
            (local.set $out (i32.add (local.get $out) (i32.const 16)))
            (br $vec)))
        (block $row_done
          (loop $one
            (br_if $row_done (i32.ge_u (local.get $q) (local.get $row_end)))
            (f32.store (local.get $out)
              (f32.demote_f64 (f64.add (f64.mul (f64.convert_i32_u (i32.load8_u (local.get $q))) (local.get $scale)) (local.get $min))))
            (if (local.get $mul)
              (then
                (f32.store (local.get $out) (f32.mul (f32.load (local.get $out)) (f32.load (local.get $m))))
                (local.set $m (i32.add (local.get $m) (i32.const 4)))))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (local.set $out (i32.add (local.get $out) (i32.const 4)))
            (br $one)))
        (br $rows))))

  ;; im2col writes the patches of output rows [oy0, oy0+rows) of a KH×KW
  ;; convolution with cin input channels into col, one row of KH*KW*cin
  ;; floats per output pixel in (ky, kx, ci) order, zero where the window
  ;; hangs over the padding; col then multiplies the KH×KW×cin×cout weights
  ;; as a GEMM. This is kernels.Im2colRows: in Go's wasm output, its short
  ;; copies (9 floats for the stem) took twice as long as the SIMD GEMM.
  (func (export "im2col")
    (param $col i32) (param $in i32) (param $inH i32) (param $inW i32) (param $cin i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $padT i32) (param $padL i32)
    (param $outW i32) (param $oy0 i32) (param $rows i32)
    (local $seg i32) (local $wseg i32) (local $oy i32) (local $oyEnd i32) (local $ox i32) (local $ky i32) (local $kx i32)
    (local $iy i32) (local $ix i32) (local $ix0 i32) (local $dst i32) (local $src i32)
    (if (i32.or (i32.le_s (local.get $rows) (i32.const 0)) (i32.le_s (local.get $outW) (i32.const 0)))
      (then (return)))
    (local.set $seg (i32.shl (local.get $cin) (i32.const 2)))
    (local.set $wseg (i32.mul (local.get $kw) (local.get $seg)))
    (local.set $dst (local.get $col))
    (local.set $oy (local.get $oy0))
    (local.set $oyEnd (i32.add (local.get $oy0) (local.get $rows)))
    (loop $rowl
      (local.set $ox (i32.const 0))
      (loop $pixels
        (local.set $ix0 (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $padL)))
        (local.set $ky (i32.const 0))
        (block $ky_done
          (loop $kyl
            (br_if $ky_done (i32.ge_s (local.get $ky) (local.get $kh)))
            (local.set $iy (i32.sub (i32.add (i32.mul (local.get $oy) (local.get $sh)) (local.get $ky)) (local.get $padT)))
            (if (i32.ge_u (local.get $iy) (local.get $inH))
              (then (call $zero_bytes (local.get $dst) (local.get $wseg)))
              (else
                (local.set $src (i32.add (local.get $in)
                  (i32.mul (i32.add (i32.mul (local.get $iy) (local.get $inW)) (local.get $ix0)) (local.get $seg))))
                (if (i32.and (i32.ge_s (local.get $ix0) (i32.const 0))
                      (i32.le_s (i32.add (local.get $ix0) (local.get $kw)) (local.get $inW)))
                  (then
                    ;; The KW taps of this window row are contiguous.
                    (call $copy_bytes (local.get $dst) (local.get $src) (local.get $wseg)))
                  (else
                    (local.set $kx (i32.const 0))
                    (loop $kxl
                      (local.set $ix (i32.add (local.get $ix0) (local.get $kx)))
                      (if (i32.ge_u (local.get $ix) (local.get $inW))
                        (then (call $zero_bytes
                          (i32.add (local.get $dst) (i32.mul (local.get $kx) (local.get $seg))) (local.get $seg)))
                        (else (call $copy_bytes
                          (i32.add (local.get $dst) (i32.mul (local.get $kx) (local.get $seg)))
                          (i32.add (local.get $src) (i32.mul (local.get $kx) (local.get $seg)))
                          (local.get $seg))))
                      (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                      (br_if $kxl (i32.lt_s (local.get $kx) (local.get $kw))))))))
            (local.set $dst (i32.add (local.get $dst) (local.get $wseg)))
            (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
            (br $kyl)))
        (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
        (br_if $pixels (i32.lt_s (local.get $ox) (local.get $outW))))
      (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
      (br_if $rowl (i32.lt_s (local.get $oy) (local.get $oyEnd)))))

  ;; copy_bytes copies n bytes, a multiple of 4, 16 at a time and then 4 at
  ;; a time (memory.copy is a call into the engine, slow for short runs).
  (func $copy_bytes (param $dst i32) (param $src i32) (param $n i32)
    (block $done
      (loop $vec
        (br_if $done (i32.lt_s (local.get $n) (i32.const 16)))
        (v128.store (local.get $dst) (v128.load (local.get $src)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $n (i32.sub (local.get $n) (i32.const 16)))
        (br $vec)))
    (block $done4
      (loop $one
        (br_if $done4 (i32.le_s (local.get $n) (i32.const 0)))
        (f32.store (local.get $dst) (f32.load (local.get $src)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $n (i32.sub (local.get $n) (i32.const 4)))
        (br $one))))

  ;; zero_bytes clears n bytes, a multiple of 4.
  (func $zero_bytes (param $dst i32) (param $n i32)
    (block $done
      (loop $vec
        (br_if $done (i32.lt_s (local.get $n) (i32.const 16)))
        (v128.store (local.get $dst) (v128.const i32x4 0 0 0 0))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $n (i32.sub (local.get $n) (i32.const 16)))
        (br $vec)))
    (block $done4
      (loop $one
        (br_if $done4 (i32.le_s (local.get $n) (i32.const 0)))
        (i32.store (local.get $dst) (i32.const 0))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $n (i32.sub (local.get $n) (i32.const 4)))
        (br $one))))

  ;; depthwise3x3: a 3×3 depthwise convolution (channel multiplier 1) over
  ;; an NHWC input: out[oy][ox][ch] = clamp(bias[ch] + Σ_{ky,kx}
  ;; in[oy*sh+ky-padT][ox*sw+kx-padL][ch] · w[ky][kx][ch], lo, hi), taps in
  ;; the zero padding skipped. in is inH×inW×c, out outH×outW×c, w 3×3×c.
  ;; Each output row goes to f32_dwconv3x3_row_4c__wasmsimd for channels
  ;; in groups of 4, and the c%4 channels left over to
  ;; f32_dwconv3x3_pixel__scalar.
  (func (export "depthwise3x3")
    (param $out i32) (param $in i32) (param $w i32) (param $bias i32)
    (param $inH i32) (param $inW i32) (param $outH i32) (param $outW i32)
    (param $sh i32) (param $sw i32) (param $padT i32) (param $padL i32)
    (param $c i32) (param $lo f32) (param $hi f32)
    (local $c4 i32) (local $cv i32) (local $oya i32) (local $oyb i32) (local $oxa i32) (local $oxb i32)
    (local $oy i32) (local $ox i32) (local $iy0 i32) (local $po i32)
    (if (i32.or (i32.le_s (local.get $outH) (i32.const 0))
          (i32.or (i32.le_s (local.get $outW) (i32.const 0)) (i32.le_s (local.get $c) (i32.const 0))))
      (then (return)))
    (local.set $c4 (i32.shl (local.get $c) (i32.const 2)))
    (local.set $cv (i32.and (local.get $c) (i32.const -4)))
    ;; Interior ranges [oya, oyb) and [oxa, oxb): 0 <= o*s - pad and
    ;; o*s - pad + 3 <= size.
    (local.set $oya (call $interior_begin (local.get $padT) (local.get $sh) (local.get $outH)))
    (local.set $oyb (call $interior_end (local.get $inH) (local.get $padT) (local.get $sh) (local.get $oya) (local.get $outH)))
    (local.set $oxa (call $interior_begin (local.get $padL) (local.get $sw) (local.get $outW)))
    (local.set $oxb (call $interior_end (local.get $inW) (local.get $padL) (local.get $sw) (local.get $oxa) (local.get $outW)))
    (local.set $oy (i32.const 0))
    (loop $rows
      (local.set $iy0 (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $padT)))
      (local.set $po (i32.add (local.get $out) (i32.mul (i32.mul (local.get $oy) (local.get $outW)) (local.get $c4))))
      (if (local.get $cv)
        (then
          (call $f32_dwconv3x3_row_4c__wasmsimd
            (local.get $po) (local.get $in) (local.get $w) (local.get $bias)
            (local.get $iy0)
            (i32.and (i32.lt_s (local.get $oxa) (local.get $oxb))
              (i32.and (i32.ge_s (local.get $oy) (local.get $oya)) (i32.lt_s (local.get $oy) (local.get $oyb))))
            (local.get $oxa) (local.get $oxb) (local.get $outW)
            (local.get $inH) (local.get $inW) (local.get $sw) (local.get $padL)
            (local.get $c) (local.get $lo) (local.get $hi))))
      (if (i32.lt_s (local.get $cv) (local.get $c))
        (then
          (local.set $ox (i32.const 0))
          (loop $tail
            (call $f32_dwconv3x3_pixel__scalar
              (i32.add (local.get $po) (i32.mul (local.get $ox) (local.get $c4)))
              (local.get $in) (local.get $w) (local.get $bias)
              (local.get $iy0) (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $padL))
              (local.get $inH) (local.get $inW) (local.get $c) (local.get $cv) (local.get $lo) (local.get $hi))
            (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
            (br_if $tail (i32.lt_s (local.get $ox) (local.get $outW))))))
      (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
      (br_if $rows (i32.lt_s (local.get $oy) (local.get $outH)))))

  ;; interior_begin is the first output index o < out with o*s >= pad.
  (func $interior_begin (param $pad i32) (param $s i32) (param $out i32) (result i32)
    (local $o i32)
    (local.set $o (i32.div_u (i32.sub (i32.add (local.get $pad) (local.get $s)) (i32.const 1)) (local.get $s)))
    (select (local.get $o) (local.get $out) (i32.lt_s (local.get $o) (local.get $out))))

  ;; interior_end is one past the last output index o < out with
  ;; o*s - pad + 3 <= size, and at least begin.
  (func $interior_end (param $size i32) (param $pad i32) (param $s i32) (param $begin i32) (param $out i32) (result i32)
    (local $span i32) (local $o i32)
    (local.set $span (i32.sub (i32.add (local.get $size) (local.get $pad)) (i32.const 3)))
    (if (i32.lt_s (local.get $span) (i32.const 0))
      (then (return (local.get $begin))))
    (local.set $o (i32.add (i32.div_u (local.get $span) (local.get $s)) (i32.const 1)))
    (local.set $o (select (local.get $o) (local.get $out) (i32.lt_s (local.get $o) (local.get $out))))
    (select (local.get $o) (local.get $begin) (i32.gt_s (local.get $o) (local.get $begin))))

  ;; f32_dwconv3x3_row_4c__wasmsimd computes channels [0, c&~3) of one
  ;; output row (at $out) whose windows start at input row iy0. For each
  ;; group of 4 channels the nine weights and the bias are loaded into
  ;; registers once, and the row is swept in up to three segments:
  ;;   - when $full, pixels [oxa, oxb), whose windows lie wholly inside the
  ;;     input, sum all nine taps unconditionally: one load per MAC;
  ;;   - the other pixels (the frame of the output: a pixel or two at each
  ;;     end of the row, or the whole of the top and bottom rows) test each
  ;;     tap and skip those in the padding.
  ;; Taps are summed in the same order on both paths. The input rows of a
  ;; window stay in cache from one channel group to the next.
  (func $f32_dwconv3x3_row_4c__wasmsimd
    (param $out i32) (param $in i32) (param $w i32) (param $bias i32)
    (param $iy0 i32) (param $full i32) (param $oxa i32) (param $oxb i32) (param $outW i32)
    (param $inH i32) (param $inW i32) (param $sw i32) (param $padL i32)
    (param $c i32) (param $lo f32) (param $hi f32)
    (local $c4 i32) (local $c8 i32) (local $rs i32) (local $xs i32) (local $cvb i32) (local $ch i32) (local $pw i32)
    (local $v0 i32) (local $v1 i32) (local $v2 i32) (local $h0 i32) (local $h1 i32) (local $h2 i32)
    (local $ox i32) (local $stop i32) (local $ix0 i32) (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $po i32) (local $pe i32)
    (local $vlo v128) (local $vhi v128) (local $vb v128) (local $acc v128)
    (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128) (local $w4 v128)
    (local $w5 v128) (local $w6 v128) (local $w7 v128) (local $w8 v128)
    (local.set $c4 (i32.shl (local.get $c) (i32.const 2)))
    (local.set $c8 (i32.shl (local.get $c) (i32.const 3)))
    (local.set $rs (i32.mul (local.get $inW) (local.get $c4)))
    (local.set $xs (i32.mul (local.get $sw) (local.get $c4)))
    (local.set $cvb (i32.shl (i32.and (local.get $c) (i32.const -4)) (i32.const 2)))
    (local.set $vlo (f32x4.splat (local.get $lo)))
    (local.set $vhi (f32x4.splat (local.get $hi)))
    ;; Which of the three input rows exist (unsigned: negative is out).
    (local.set $v0 (i32.lt_u (local.get $iy0) (local.get $inH)))
    (local.set $v1 (i32.lt_u (i32.add (local.get $iy0) (i32.const 1)) (local.get $inH)))
    (local.set $v2 (i32.lt_u (i32.add (local.get $iy0) (i32.const 2)) (local.get $inH)))
    (local.set $vb (v128.const i32x4 0 0 0 0))
    (local.set $ch (i32.const 0))
    (loop $groups
      (if (local.get $bias)
        (then (local.set $vb (v128.load (i32.add (local.get $bias) (local.get $ch))))))
      (local.set $pw (i32.add (local.get $w) (local.get $ch)))
      (local.set $w0 (v128.load (local.get $pw)))
      (local.set $w1 (v128.load (i32.add (local.get $pw) (local.get $c4))))
      (local.set $w2 (v128.load (i32.add (local.get $pw) (local.get $c8))))
      (local.set $pw (i32.add (local.get $pw) (i32.add (local.get $c8) (local.get $c4))))
      (local.set $w3 (v128.load (local.get $pw)))
      (local.set $w4 (v128.load (i32.add (local.get $pw) (local.get $c4))))
      (local.set $w5 (v128.load (i32.add (local.get $pw) (local.get $c8))))
      (local.set $pw (i32.add (local.get $pw) (i32.add (local.get $c8) (local.get $c4))))
      (local.set $w6 (v128.load (local.get $pw)))
      (local.set $w7 (v128.load (i32.add (local.get $pw) (local.get $c4))))
      (local.set $w8 (v128.load (i32.add (local.get $pw) (local.get $c8))))
      (local.set $ox (i32.const 0))
      (loop $segments
        ;; Frame pixels up to the interior, or to the end of the row.
        (local.set $stop (select (local.get $oxa) (local.get $outW)
          (i32.and (local.get $full) (i32.le_s (local.get $ox) (local.get $oxa)))))
        (block $frame_done
          (loop $frame
            (br_if $frame_done (i32.ge_s (local.get $ox) (local.get $stop)))
            (local.set $ix0 (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $padL)))
            (local.set $h0 (i32.lt_u (local.get $ix0) (local.get $inW)))
            (local.set $h1 (i32.lt_u (i32.add (local.get $ix0) (i32.const 1)) (local.get $inW)))
            (local.set $h2 (i32.lt_u (i32.add (local.get $ix0) (i32.const 2)) (local.get $inW)))
            ;; Addresses of taps in the padding are computed, never loaded.
            (local.set $r0 (i32.add (i32.add (local.get $in) (local.get $ch))
              (i32.mul (i32.add (i32.mul (local.get $iy0) (local.get $inW)) (local.get $ix0)) (local.get $c4))))
            (local.set $r1 (i32.add (local.get $r0) (local.get $rs)))
            (local.set $r2 (i32.add (local.get $r1) (local.get $rs)))
            (local.set $acc (local.get $vb))
            (if (local.get $v0)
              (then
                (if (local.get $h0) (then
                  (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (local.get $r0)) (local.get $w0))))))
                (if (local.get $h1) (then
                  (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (i32.add (local.get $r0) (local.get $c4))) (local.get $w1))))))
                (if (local.get $h2) (then
                  (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (i32.add (local.get $r0) (local.get $c8))) (local.get $w2))))))))
            (if (local.get $v1)
              (then
                (if (local.get $h0) (then
                  (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (local.get $r1)) (local.get $w3))))))
                (if (local.get $h1) (then
                  (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (i32.add (local.get $r1) (local.get $c4))) (local.get $w4))))))
                (if (local.get $h2) (then
                  (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (i32.add (local.get $r1) (local.get $c8))) (local.get $w5))))))))
            (if (local.get $v2)
              (then
                (if (local.get $h0) (then
                  (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (local.get $r2)) (local.get $w6))))))
                (if (local.get $h1) (then
                  (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (i32.add (local.get $r2) (local.get $c4))) (local.get $w7))))))
                (if (local.get $h2) (then
                  (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (i32.add (local.get $r2) (local.get $c8))) (local.get $w8))))))))
            (v128.store (i32.add (i32.add (local.get $out) (local.get $ch)) (i32.mul (local.get $ox) (local.get $c4)))
              (f32x4.pmin (f32x4.pmax (local.get $acc) (local.get $vlo)) (local.get $vhi)))
            (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
            (br $frame)))
        (if (i32.and (local.get $full) (i32.eq (local.get $ox) (local.get $oxa)))
          (then
            ;; The interior: all nine taps, pointers walking the row.
            (local.set $r0 (i32.add (i32.add (local.get $in) (local.get $ch))
              (i32.mul (i32.add (i32.mul (local.get $iy0) (local.get $inW))
                         (i32.sub (i32.mul (local.get $oxa) (local.get $sw)) (local.get $padL)))
                (local.get $c4))))
            (local.set $po (i32.add (i32.add (local.get $out) (local.get $ch)) (i32.mul (local.get $oxa) (local.get $c4))))
            (local.set $pe (i32.add (i32.add (local.get $out) (local.get $ch)) (i32.mul (local.get $oxb) (local.get $c4))))
            (loop $px
              (local.set $r1 (i32.add (local.get $r0) (local.get $rs)))
              (local.set $r2 (i32.add (local.get $r1) (local.get $rs)))
              (local.set $acc (f32x4.add (local.get $vb) (f32x4.mul (v128.load (local.get $r0)) (local.get $w0))))
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (i32.add (local.get $r0) (local.get $c4))) (local.get $w1))))
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (i32.add (local.get $r0) (local.get $c8))) (local.get $w2))))
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (local.get $r1)) (local.get $w3))))
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (i32.add (local.get $r1) (local.get $c4))) (local.get $w4))))
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (i32.add (local.get $r1) (local.get $c8))) (local.get $w5))))
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (local.get $r2)) (local.get $w6))))
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (i32.add (local.get $r2) (local.get $c4))) (local.get $w7))))
              (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (i32.add (local.get $r2) (local.get $c8))) (local.get $w8))))
              (v128.store (local.get $po) (f32x4.pmin (f32x4.pmax (local.get $acc) (local.get $vlo)) (local.get $vhi)))
              (local.set $r0 (i32.add (local.get $r0) (local.get $xs)))
              (local.set $po (i32.add (local.get $po) (local.get $c4)))
              (br_if $px (i32.lt_u (local.get $po) (local.get $pe))))
            (local.set $ox (local.get $oxb))
            (br $segments))))
      (local.set $ch (i32.add (local.get $ch) (i32.const 16)))
      (br_if $groups (i32.lt_u (local.get $ch) (local.get $cvb)))))

  ;; f32_dwconv3x3_pixel__scalar computes channels [ch0, c) of one output
  ;; pixel, one float at a time, whose window starts at input row iy0,
  ;; column ix0 and may hang over the padding: only the taps inside the
  ;; input are summed, in the row kernel's order. It serves the c%4
  ;; channels the vector kernels leave over.
  (func $f32_dwconv3x3_pixel__scalar
    (param $out i32) (param $in i32) (param $w i32) (param $bias i32)
    (param $iy0 i32) (param $ix0 i32) (param $inH i32) (param $inW i32)
    (param $c i32) (param $ch0 i32) (param $lo f32) (param $hi f32)
    (local $c4 i32) (local $ch i32) (local $ky0 i32) (local $ky1 i32) (local $kx0 i32) (local $kx1 i32)
    (local $ky i32) (local $kx i32) (local $s f32)
    (local.set $c4 (i32.shl (local.get $c) (i32.const 2)))
    ;; Valid taps: 0 <= iy0+ky < inH, 0 <= ix0+kx < inW.
    (local.set $ky0 (select (i32.sub (i32.const 0) (local.get $iy0)) (i32.const 0) (i32.lt_s (local.get $iy0) (i32.const 0))))
    (local.set $ky1 (i32.sub (local.get $inH) (local.get $iy0)))
    (local.set $ky1 (select (local.get $ky1) (i32.const 3) (i32.lt_s (local.get $ky1) (i32.const 3))))
    (local.set $kx0 (select (i32.sub (i32.const 0) (local.get $ix0)) (i32.const 0) (i32.lt_s (local.get $ix0) (i32.const 0))))
    (local.set $kx1 (i32.sub (local.get $inW) (local.get $ix0)))
    (local.set $kx1 (select (local.get $kx1) (i32.const 3) (i32.lt_s (local.get $kx1) (i32.const 3))))
    (local.set $ch (local.get $ch0))
    (block $done
      (loop $channels
        (br_if $done (i32.ge_s (local.get $ch) (local.get $c)))
        (local.set $s (f32.const 0))
        (if (local.get $bias)
          (then (local.set $s (f32.load (i32.add (local.get $bias) (i32.shl (local.get $ch) (i32.const 2)))))))
        (local.set $ky (local.get $ky0))
        (block $ky_done
          (loop $kyl
            (br_if $ky_done (i32.ge_s (local.get $ky) (local.get $ky1)))
            (local.set $kx (local.get $kx0))
            (block $kx_done
              (loop $kxl
                (br_if $kx_done (i32.ge_s (local.get $kx) (local.get $kx1)))
                (local.set $s (f32.add (local.get $s) (f32.mul
                  (f32.load (i32.add (local.get $in)
                    (i32.add (i32.mul (i32.add (i32.mul (i32.add (local.get $iy0) (local.get $ky)) (local.get $inW))
                                        (i32.add (local.get $ix0) (local.get $kx)))
                               (local.get $c4))
                      (i32.shl (local.get $ch) (i32.const 2)))))
                  (f32.load (i32.add (local.get $w)
                    (i32.add (i32.mul (i32.add (i32.mul (local.get $ky) (i32.const 3)) (local.get $kx)) (local.get $c4))
                      (i32.shl (local.get $ch) (i32.const 2))))))))
                (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                (br $kxl)))
            (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
            (br $kyl)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $ch) (i32.const 2)))
          (call $clamp (local.get $s) (local.get $lo) (local.get $hi)))
        (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
        (br $channels))))
)
