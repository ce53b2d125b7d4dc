package kernels

// DequantizeRef turns 8-bit codes into float32 weights, exactly as TF.js
// dequantizes its uint8 weights and as the model format defines it:
//
//	w := float32(float64(q[i])*scale + min) // each step rounded once, no FMA
//	if chanMul != nil {
//		w *= chanMul[i%len(chanMul)] // float32; the channel axis is last
//	}
//	out[i] = w
//
// (float64(w)*float64(m) is exact, so multiplying in float32 rounds the
// same product once, as the format's float64 formula does.) The
// optimized versions must match it bit for bit: weights feed the parity
// bars, and a model loads the same on every platform.
func DequantizeRef(out []float32, q []uint8, scale, min float64, chanMul []float32) {
	out = out[:len(q)]
	for i, c := range q {
		prod := float64(float64(c) * scale) // the conversion forbids fusing into an FMA
		w := float32(prod + min)
		if len(chanMul) > 0 {
			w *= chanMul[i%len(chanMul)]
		}
		out[i] = w
	}
}

// Dequantize is the optimized DequantizeRef: a 256-entry table of the
// codes' values, then a lookup (and a multiply) per weight, a row of
// channels at a time. It runs once per model load, but in a browser that
// is in V8's baseline tier, where the float64 arithmetic per weight cost
// tens of milliseconds of start-up.
func Dequantize(out []float32, q []uint8, scale, min float64, chanMul []float32) {
	out = out[:len(q)]
	var table [256]float32
	for c := range table {
		prod := float64(float64(c) * scale)
		table[c] = float32(prod + min)
	}
	c := len(chanMul)
	if c == 0 {
		for i, code := range q {
			out[i] = table[code]
		}
		return
	}
	if len(q)%c != 0 {
		DequantizeRef(out, q, scale, min, chanMul) // not whole rows: the format never has this
		return
	}
	for i := 0; i < len(q); i += c {
		codes, dst := q[i:i+c], out[i:i+c]
		dst = dst[:len(codes)]
		mul := chanMul[:len(codes)]
		for ch, code := range codes {
			dst[ch] = table[code] * mul[ch]
		}
	}
}
