package kernels

// Im2colRows writes the patches of output rows [oy0, oy0+rows) of a
// convolution with cin input channels into col, one row of KH*KW*cin values
// per output pixel in (ky, kx, ci) order, zero where the window hangs over
// the padding. col then multiplies a KH×KW×cin×cout weight matrix as a GEMM.
func Im2colRows(col, in []float32, p ConvParams, cin, oy0, rows int) {
	kk := p.KH * p.KW * cin
	for r := 0; r < rows; r++ {
		oy := oy0 + r
		for ox := 0; ox < p.OutW; ox++ {
			dst := col[(r*p.OutW+ox)*kk : (r*p.OutW+ox+1)*kk]
			d := 0
			for ky := 0; ky < p.KH; ky++ {
				iy := oy*p.StrideH + ky - p.PadT
				for kx := 0; kx < p.KW; kx++ {
					ix := ox*p.StrideW + kx - p.PadL
					seg := dst[d : d+cin]
					d += cin
					if iy < 0 || iy >= p.InH || ix < 0 || ix >= p.InW {
						clear(seg)
						continue
					}
					copy(seg, in[(iy*p.InW+ix)*cin:])
				}
			}
		}
	}
}

// ConvIm2colRows is how many output rows ConvGemm processes per im2col
// block: enough rows for the GEMM to be efficient, few enough that the
// scratch stays in cache.
func ConvIm2colRows(p ConvParams) int {
	r := 4096 / max(p.OutW, 1)
	return max(1, min(r, p.OutH))
}

// ConvScratch is the number of float32s ConvGemm needs in scratch.
func ConvScratch(p ConvParams, cin int) int {
	return ConvIm2colRows(p) * p.OutW * p.KH * p.KW * cin
}

// ConvGemm is the optimized ConvRef for groups == 1: im2col in blocks of
// output rows, each block multiplied by the weights with gemm.
func ConvGemm(gemm GemmFunc, out, in, w, bias, scratch []float32, p ConvParams, cin, cout int) {
	convGemmWith(Im2colRows, gemm, out, in, w, bias, scratch, p, cin, cout)
}

// convGemmWith is ConvGemm with the im2col step replaceable.
func convGemmWith(im2col func(col, in []float32, p ConvParams, cin, oy0, rows int), gemm GemmFunc,
	out, in, w, bias, scratch []float32, p ConvParams, cin, cout int) {
	kk := p.KH * p.KW * cin
	block := ConvIm2colRows(p)
	for oy := 0; oy < p.OutH; oy += block {
		rows := min(block, p.OutH-oy)
		m := rows * p.OutW
		im2col(scratch, in, p, cin, oy, rows)
		gemm(out[oy*p.OutW*cout:], scratch[:m*kk], w, bias, m, kk, cout, p.Lo, p.Hi)
	}
}
