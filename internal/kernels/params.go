package kernels

// ConvParams describes a 2-D convolution or pooling window over an NHWC
// tensor with batch 1. Padding is explicit so that TF "SAME" and Keras
// ZeroPadding2D + "valid" map onto the same kernel.
type ConvParams struct {
	InH, InW   int // input spatial size
	OutH, OutW int // output spatial size
	KH, KW     int // window size
	StrideH    int
	StrideW    int
	PadT, PadL int // zero rows/columns before the input; after is implied by OutH/OutW
	Lo, Hi     float32
}

// OutSize returns the output extent of a window of size k with stride s
// over n inputs with padBefore+padAfter zeros, or 0 if the window never fits.
func OutSize(n, k, s, padBefore, padAfter int) int {
	span := n + padBefore + padAfter - k
	if span < 0 || s <= 0 {
		return 0
	}
	return span/s + 1
}

func clamp(v, lo, hi float32) float32 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}
