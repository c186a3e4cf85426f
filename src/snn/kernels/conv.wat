;; WebAssembly SIMD kernels of the SNN engine and trainer (assembled by scripts/build-kernels.mjs into
;; src/snn/kernels/conv-wasm.ts; the TypeScript reference of each is in src/snn/kernels/reference.ts).
;;
;; Layouts (all float32, pointers are byte offsets into the exported memory):
;;   x   input, channel-major: [cin][h][w]
;;   wt  weights, [cin][kh][kw][cpg]  (cpg = cout / groups; an input channel's fan-out is contiguous)
;;   y   output (and dy), channel-last: [ho][wo][cout]
;; Geometry block (16 × i32 at `geo`): cin h w cinPg cpg cout ho wo kh kw sh sw ph pw dh dw.
;; An input element (c, iy, ix) reaches output (oy, ox) through kernel tap (ky, kx) where
;; iy + ph − ky·dh = oy·sh and ix + pw − kx·dw = ox·sw (scatter form of conv2d; linear is 1×1 on 1×1).
;;
;; conv_fwd   y[oy][ox][g·cpg + o] += v·wt[c][ky][kx][o] for every non-zero input v, in input order
;;            (c, iy, ix, ky, kx). v = 1 adds the weight (f32 add); any other v computes the product and
;;            the sum in f64 and rounds once to f32 — exactly JavaScript's `acc += v * w` on Float32Arrays,
;;            so results are bit for bit those of the scalar TypeScript loop. Returns the synaptic ops.
;; conv_wgrad dw[c][ky][kx][o] += v·dy[oy][ox][g·cpg + o] for every non-zero input v (f32 arithmetic).
;; conv_dgrad dx[c][iy][ix] = Σ_(ky,kx) Σ_o wt[c][ky][kx][o]·dy[oy][ox][g·cpg + o] (f32: four accumulators
;;            of four lanes over every tap, then summed; channels past a multiple of 4 in a scalar sum).
(module
  (memory (export "memory") 1)

  ;; y[0..n) += w[0..n)
  (func $add1 (param $y i32) (param $w i32) (param $n i32)
    (local $i i32) (local $n4 i32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
        (v128.store (local.get $y)
          (f32x4.add (v128.load (local.get $y)) (v128.load (local.get $w))))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $l)))
    (block $tdone
      (loop $t
        (br_if $tdone (i32.ge_u (local.get $i) (local.get $n)))
        (f32.store (local.get $y) (f32.add (f32.load (local.get $y)) (f32.load (local.get $w))))
        (local.set $y (i32.add (local.get $y) (i32.const 4)))
        (local.set $w (i32.add (local.get $w) (i32.const 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $t))))

  ;; y[0..n) = f32(f64(y) + f64(v)·f64(w))  (JavaScript's Float32Array `y += v * w`)
  (func $addv64 (param $y i32) (param $w i32) (param $n i32) (param $v f64)
    (local $i i32) (local $n4 i32) (local $vv v128) (local $wv v128) (local $yv v128)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $vv (f64x2.splat (local.get $v)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $wv (v128.load (local.get $w)))
        (local.set $yv (v128.load (local.get $y)))
        (v128.store (local.get $y)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero
              (f64x2.add (f64x2.promote_low_f32x4 (local.get $yv))
                (f64x2.mul (local.get $vv) (f64x2.promote_low_f32x4 (local.get $wv)))))
            (f32x4.demote_f64x2_zero
              (f64x2.add
                (f64x2.promote_low_f32x4
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $yv) (local.get $yv)))
                (f64x2.mul (local.get $vv)
                  (f64x2.promote_low_f32x4
                    (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $wv) (local.get $wv))))))))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $l)))
    (block $tdone
      (loop $t
        (br_if $tdone (i32.ge_u (local.get $i) (local.get $n)))
        (f32.store (local.get $y)
          (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load (local.get $y)))
            (f64.mul (local.get $v) (f64.promote_f32 (f32.load (local.get $w)))))))
        (local.set $y (i32.add (local.get $y) (i32.const 4)))
        (local.set $w (i32.add (local.get $w) (i32.const 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $t))))

  ;; y[0..n) += v·w[0..n)  (f32 multiply, f32 add)
  (func $addv32 (param $y i32) (param $w i32) (param $n i32) (param $v f32)
    (local $i i32) (local $n4 i32) (local $vv v128)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $vv (f32x4.splat (local.get $v)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
        (v128.store (local.get $y)
          (f32x4.add (v128.load (local.get $y)) (f32x4.mul (local.get $vv) (v128.load (local.get $w)))))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $l)))
    (block $tdone
      (loop $t
        (br_if $tdone (i32.ge_u (local.get $i) (local.get $n)))
        (f32.store (local.get $y)
          (f32.add (f32.load (local.get $y)) (f32.mul (local.get $v) (f32.load (local.get $w)))))
        (local.set $y (i32.add (local.get $y) (i32.const 4)))
        (local.set $w (i32.add (local.get $w) (i32.const 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $t))))

  ;; mode 0: conv_fwd (x, wt → y); mode 1: conv_wgrad (x, dy → dw, passed as wt). Returns synaptic ops.
  (func $scatter (param $geo i32) (param $x i32) (param $wt i32) (param $y i32) (param $mode i32)
    (result f64)
    (local $cin i32) (local $h i32) (local $w i32) (local $cinPg i32) (local $cpg i32) (local $cout i32)
    (local $ho i32) (local $wo i32) (local $kh i32) (local $kw i32) (local $sh i32) (local $sw i32)
    (local $ph i32) (local $pw i32) (local $dh i32) (local $dw i32)
    (local $c i32) (local $iy i32) (local $ix i32) (local $ky i32) (local $kx i32)
    (local $ny i32) (local $nx i32) (local $oy i32) (local $ox i32)
    (local $v f32) (local $xp i32) (local $gOff i32) (local $wrow i32) (local $yrow i32) (local $ops f64)
    (local $i i32)
    (local.set $cin (i32.load offset=0 (local.get $geo)))
    (local.set $h (i32.load offset=4 (local.get $geo)))
    (local.set $w (i32.load offset=8 (local.get $geo)))
    (local.set $cinPg (i32.load offset=12 (local.get $geo)))
    (local.set $cpg (i32.load offset=16 (local.get $geo)))
    (local.set $cout (i32.load offset=20 (local.get $geo)))
    (local.set $ho (i32.load offset=24 (local.get $geo)))
    (local.set $wo (i32.load offset=28 (local.get $geo)))
    (local.set $kh (i32.load offset=32 (local.get $geo)))
    (local.set $kw (i32.load offset=36 (local.get $geo)))
    (local.set $sh (i32.load offset=40 (local.get $geo)))
    (local.set $sw (i32.load offset=44 (local.get $geo)))
    (local.set $ph (i32.load offset=48 (local.get $geo)))
    (local.set $pw (i32.load offset=52 (local.get $geo)))
    (local.set $dh (i32.load offset=56 (local.get $geo)))
    (local.set $dw (i32.load offset=60 (local.get $geo)))
    (local.set $xp (local.get $x))
    (local.set $c (i32.const 0))
    (block $cdone
      (loop $cl
        (br_if $cdone (i32.ge_u (local.get $c) (local.get $cin)))
        (local.set $gOff (i32.mul (i32.div_u (local.get $c) (local.get $cinPg)) (local.get $cpg)))
        (local.set $iy (i32.const 0))
        (block $ydone
          (loop $yl
            (br_if $ydone (i32.ge_u (local.get $iy) (local.get $h)))
            (local.set $ix (i32.const 0))
            (block $xdone
              (loop $xl
                (br_if $xdone (i32.ge_u (local.get $ix) (local.get $w)))
                (local.set $v (f32.load (local.get $xp)))
                (if (f32.ne (local.get $v) (f32.const 0))
                  (then
                    (local.set $ky (i32.const 0))
                    (block $kydone
                      (loop $kyl
                        (br_if $kydone (i32.ge_u (local.get $ky) (local.get $kh)))
                        (local.set $ny (i32.sub (i32.add (local.get $iy) (local.get $ph))
                          (i32.mul (local.get $ky) (local.get $dh))))
                        (local.set $oy (i32.div_s (local.get $ny) (local.get $sh)))
                        (if (i32.and
                              (i32.and (i32.ge_s (local.get $ny) (i32.const 0))
                                (i32.eqz (i32.rem_s (local.get $ny) (local.get $sh))))
                              (i32.lt_s (local.get $oy) (local.get $ho)))
                          (then
                            (local.set $kx (i32.const 0))
                            (block $kxdone
                              (loop $kxl
                                (br_if $kxdone (i32.ge_u (local.get $kx) (local.get $kw)))
                                (local.set $nx (i32.sub (i32.add (local.get $ix) (local.get $pw))
                                  (i32.mul (local.get $kx) (local.get $dw))))
                                (local.set $ox (i32.div_s (local.get $nx) (local.get $sw)))
                                (if (i32.and
                                      (i32.and (i32.ge_s (local.get $nx) (i32.const 0))
                                        (i32.eqz (i32.rem_s (local.get $nx) (local.get $sw))))
                                      (i32.lt_s (local.get $ox) (local.get $wo)))
                                  (then
                                    (local.set $wrow (i32.add (local.get $wt) (i32.shl
                                      (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $c) (local.get $kh))
                                        (local.get $ky)) (local.get $kw)) (local.get $kx)) (local.get $cpg))
                                      (i32.const 2))))
                                    (local.set $yrow (i32.add (local.get $y) (i32.shl
                                      (i32.add (i32.mul (i32.add (i32.mul (local.get $oy) (local.get $wo))
                                        (local.get $ox)) (local.get $cout)) (local.get $gOff))
                                      (i32.const 2))))
                                    (local.set $ops (f64.add (local.get $ops) (f64.convert_i32_u (local.get $cpg))))
                                    (if (i32.eqz (local.get $mode))
                                      (then
                                        (if (f32.eq (local.get $v) (f32.const 1))
                                          (then
                                            ;; y += w inline (the hot path of spiking inputs)
                                            (local.set $i (i32.const 0))
                                            (block $a4done
                                              (loop $a4
                                                (br_if $a4done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $cpg)))
                                                (v128.store (local.get $yrow)
                                                  (f32x4.add (v128.load (local.get $yrow)) (v128.load (local.get $wrow))))
                                                (local.set $yrow (i32.add (local.get $yrow) (i32.const 16)))
                                                (local.set $wrow (i32.add (local.get $wrow) (i32.const 16)))
                                                (local.set $i (i32.add (local.get $i) (i32.const 4)))
                                                (br $a4)))
                                            (if (i32.lt_u (local.get $i) (local.get $cpg))
                                              (then (call $add1 (local.get $yrow) (local.get $wrow)
                                                (i32.sub (local.get $cpg) (local.get $i))))))
                                          (else (call $addv64 (local.get $yrow) (local.get $wrow) (local.get $cpg)
                                            (f64.promote_f32 (local.get $v))))))
                                      (else
                                        (if (f32.eq (local.get $v) (f32.const 1))
                                          (then (call $add1 (local.get $wrow) (local.get $yrow) (local.get $cpg)))
                                          (else (call $addv32 (local.get $wrow) (local.get $yrow) (local.get $cpg)
                                            (local.get $v))))))))
                                (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                                (br $kxl)))))
                        (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
                        (br $kyl)))))
                (local.set $xp (i32.add (local.get $xp) (i32.const 4)))
                (local.set $ix (i32.add (local.get $ix) (i32.const 1)))
                (br $xl)))
            (local.set $iy (i32.add (local.get $iy) (i32.const 1)))
            (br $yl)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cl)))
    (local.get $ops))

  (func (export "conv_fwd") (param $geo i32) (param $x i32) (param $wt i32) (param $y i32) (result f64)
    (call $scatter (local.get $geo) (local.get $x) (local.get $wt) (local.get $y) (i32.const 0)))

  (func (export "conv_wgrad") (param $geo i32) (param $x i32) (param $dy i32) (param $dw i32) (result f64)
    (call $scatter (local.get $geo) (local.get $x) (local.get $dw) (local.get $dy) (i32.const 1)))

  (func (export "conv_dgrad") (param $geo i32) (param $wt i32) (param $dy i32) (param $dx i32)
    (local $cin i32) (local $h i32) (local $w i32) (local $cinPg i32) (local $cpg i32) (local $cout i32)
    (local $ho i32) (local $wo i32) (local $kh i32) (local $kw i32) (local $sh i32) (local $sw i32)
    (local $ph i32) (local $pw i32) (local $dh i32) (local $dw i32)
    (local $c i32) (local $iy i32) (local $ix i32) (local $ky i32) (local $kx i32)
    (local $ny i32) (local $nx i32) (local $oy i32) (local $ox i32)
    (local $s f32) (local $xp i32) (local $gOff i32) (local $a i32) (local $b i32) (local $i i32)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local.set $cin (i32.load offset=0 (local.get $geo)))
    (local.set $h (i32.load offset=4 (local.get $geo)))
    (local.set $w (i32.load offset=8 (local.get $geo)))
    (local.set $cinPg (i32.load offset=12 (local.get $geo)))
    (local.set $cpg (i32.load offset=16 (local.get $geo)))
    (local.set $cout (i32.load offset=20 (local.get $geo)))
    (local.set $ho (i32.load offset=24 (local.get $geo)))
    (local.set $wo (i32.load offset=28 (local.get $geo)))
    (local.set $kh (i32.load offset=32 (local.get $geo)))
    (local.set $kw (i32.load offset=36 (local.get $geo)))
    (local.set $sh (i32.load offset=40 (local.get $geo)))
    (local.set $sw (i32.load offset=44 (local.get $geo)))
    (local.set $ph (i32.load offset=48 (local.get $geo)))
    (local.set $pw (i32.load offset=52 (local.get $geo)))
    (local.set $dh (i32.load offset=56 (local.get $geo)))
    (local.set $dw (i32.load offset=60 (local.get $geo)))
    (local.set $xp (local.get $dx))
    (block $cdone
      (loop $cl
        (br_if $cdone (i32.ge_u (local.get $c) (local.get $cin)))
        (local.set $gOff (i32.mul (i32.div_u (local.get $c) (local.get $cinPg)) (local.get $cpg)))
        (local.set $iy (i32.const 0))
        (block $ydone
          (loop $yl
            (br_if $ydone (i32.ge_u (local.get $iy) (local.get $h)))
            (local.set $ix (i32.const 0))
            (block $xdone
              (loop $xl
                (br_if $xdone (i32.ge_u (local.get $ix) (local.get $w)))
                (local.set $s (f32.const 0))
                (local.set $acc0 (v128.const i32x4 0 0 0 0))
                (local.set $acc1 (v128.const i32x4 0 0 0 0))
                (local.set $acc2 (v128.const i32x4 0 0 0 0))
                (local.set $acc3 (v128.const i32x4 0 0 0 0))
                (local.set $ky (i32.const 0))
                (block $kydone
                  (loop $kyl
                    (br_if $kydone (i32.ge_u (local.get $ky) (local.get $kh)))
                    (local.set $ny (i32.sub (i32.add (local.get $iy) (local.get $ph))
                      (i32.mul (local.get $ky) (local.get $dh))))
                    (local.set $oy (i32.div_s (local.get $ny) (local.get $sh)))
                    (if (i32.and
                          (i32.and (i32.ge_s (local.get $ny) (i32.const 0))
                            (i32.eqz (i32.rem_s (local.get $ny) (local.get $sh))))
                          (i32.lt_s (local.get $oy) (local.get $ho)))
                      (then
                        (local.set $kx (i32.const 0))
                        (block $kxdone
                          (loop $kxl
                            (br_if $kxdone (i32.ge_u (local.get $kx) (local.get $kw)))
                            (local.set $nx (i32.sub (i32.add (local.get $ix) (local.get $pw))
                              (i32.mul (local.get $kx) (local.get $dw))))
                            (local.set $ox (i32.div_s (local.get $nx) (local.get $sw)))
                            (if (i32.and
                                  (i32.and (i32.ge_s (local.get $nx) (i32.const 0))
                                    (i32.eqz (i32.rem_s (local.get $nx) (local.get $sw))))
                                  (i32.lt_s (local.get $ox) (local.get $wo)))
                              (then
                                (local.set $a (i32.add (local.get $wt) (i32.shl
                                  (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $c) (local.get $kh))
                                    (local.get $ky)) (local.get $kw)) (local.get $kx)) (local.get $cpg))
                                  (i32.const 2))))
                                (local.set $b (i32.add (local.get $dy) (i32.shl
                                  (i32.add (i32.mul (i32.add (i32.mul (local.get $oy) (local.get $wo))
                                    (local.get $ox)) (local.get $cout)) (local.get $gOff))
                                  (i32.const 2))))
                                (local.set $i (i32.const 0))
                                ;; sixteen lanes at a time into four independent accumulators
                                (block $d16
                                  (loop $l16
                                    (br_if $d16 (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $cpg)))
                                    (local.set $acc0 (f32x4.add (local.get $acc0)
                                      (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))
                                    (local.set $acc1 (f32x4.add (local.get $acc1)
                                      (f32x4.mul (v128.load offset=16 (local.get $a)) (v128.load offset=16 (local.get $b)))))
                                    (local.set $acc2 (f32x4.add (local.get $acc2)
                                      (f32x4.mul (v128.load offset=32 (local.get $a)) (v128.load offset=32 (local.get $b)))))
                                    (local.set $acc3 (f32x4.add (local.get $acc3)
                                      (f32x4.mul (v128.load offset=48 (local.get $a)) (v128.load offset=48 (local.get $b)))))
                                    (local.set $a (i32.add (local.get $a) (i32.const 64)))
                                    (local.set $b (i32.add (local.get $b) (i32.const 64)))
                                    (local.set $i (i32.add (local.get $i) (i32.const 16)))
                                    (br $l16)))
                                (block $d4
                                  (loop $l4
                                    (br_if $d4 (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $cpg)))
                                    (local.set $acc0 (f32x4.add (local.get $acc0)
                                      (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))
                                    (local.set $a (i32.add (local.get $a) (i32.const 16)))
                                    (local.set $b (i32.add (local.get $b) (i32.const 16)))
                                    (local.set $i (i32.add (local.get $i) (i32.const 4)))
                                    (br $l4)))
                                (block $d1
                                  (loop $l1
                                    (br_if $d1 (i32.ge_u (local.get $i) (local.get $cpg)))
                                    (local.set $s (f32.add (local.get $s)
                                      (f32.mul (f32.load (local.get $a)) (f32.load (local.get $b)))))
                                    (local.set $a (i32.add (local.get $a) (i32.const 4)))
                                    (local.set $b (i32.add (local.get $b) (i32.const 4)))
                                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                                    (br $l1)))))
                            (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                            (br $kxl)))))
                    (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
                    (br $kyl)))
                (local.set $acc0 (f32x4.add (f32x4.add (local.get $acc0) (local.get $acc1))
                  (f32x4.add (local.get $acc2) (local.get $acc3))))
                (f32.store (local.get $xp)
                  (f32.add (local.get $s)
                    (f32.add
                      (f32.add (f32x4.extract_lane 0 (local.get $acc0)) (f32x4.extract_lane 1 (local.get $acc0)))
                      (f32.add (f32x4.extract_lane 2 (local.get $acc0)) (f32x4.extract_lane 3 (local.get $acc0))))))
                (local.set $xp (i32.add (local.get $xp) (i32.const 4)))
                (local.set $ix (i32.add (local.get $ix) (i32.const 1)))
                (br $xl)))
            (local.set $iy (i32.add (local.get $iy) (i32.const 1)))
            (br $yl)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cl)))))
