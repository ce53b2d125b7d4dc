package imageio

import (
	"encoding/binary"
	"fmt"
	"math"
)

// ICC profiles, the subset browsers apply to PNGs in practice: matrix/TRC
// profiles (RGB: rXYZ gXYZ bXYZ with rTRC gTRC bTRC; gray: kTRC) whose
// curves are 'curv' (identity, gamma or table) or 'para' (the five ICC
// parametric types). Chromium (skcms) also applies lookup-table profiles
// (A2B0 and friends); this package does not, and reports such a profile as
// unsupported rather than classify colours a browser would not show.

// iccProfile is a parsed matrix/TRC profile.
type iccProfile struct {
	gray    bool
	trc     [3]iccCurve   // one for gray (kTRC)
	toXYZ   [3][3]float64 // columns rXYZ, gXYZ, bXYZ (PCS D50); unused for gray
	version byte
}

// iccCurve maps a sample in [0, 1] to linear light in [0, 1].
type iccCurve struct {
	table []uint16   // sampled curve, if any
	para  [7]float64 // g a b c d e f
	typ   int        // -1 table, 0..4 parametric type
}

func (c *iccCurve) eval(x float64) float64 {
	var y float64
	if c.typ < 0 {
		n := len(c.table)
		pos := x * float64(n-1)
		i := int(pos)
		if i >= n-1 {
			y = float64(c.table[n-1]) / 65535
		} else {
			if i < 0 {
				i, pos = 0, 0
			}
			f := pos - float64(i)
			y = (float64(c.table[i])*(1-f) + float64(c.table[i+1])*f) / 65535
		}
	} else {
		g, a, b, cc, d, e, f := c.para[0], c.para[1], c.para[2], c.para[3], c.para[4], c.para[5], c.para[6]
		pow := func(v float64) float64 {
			if v <= 0 {
				return 0
			}
			return math.Pow(v, g)
		}
		switch c.typ {
		case 0:
			y = pow(x)
		case 1:
			if x >= -b/a {
				y = pow(a*x + b)
			}
		case 2:
			y = cc
			if x >= -b/a {
				y = pow(a*x+b) + cc
			}
		case 3:
			y = cc * x
			if x >= d {
				y = pow(a*x + b)
			}
		case 4:
			y = cc*x + f
			if x >= d {
				y = pow(a*x+b) + e
			}
		}
	}
	if !(y > 0) { // NaN too
		return 0
	}
	return min(y, 1)
}

// iccMaxBytes bounds an embedded profile (after decompression); real
// matrix/TRC profiles are a few KiB, lookup-table ones up to a few hundred.
const iccMaxBytes = 1 << 20

// parseICC parses a profile for an image with the given number of colour
// channels (1 gray, 3 RGB). It fails with a message on anything it cannot
// apply exactly: malformed data, lookup-table (A2B) profiles, colour spaces
// other than the image's, or a Lab connection space.
func parseICC(p []byte, channels int) (*iccProfile, error) {
	if len(p) < 132 {
		return nil, fmt.Errorf("ICC profile of %d bytes is too short", len(p))
	}
	size := binary.BigEndian.Uint32(p)
	if size < 132 || uint64(size) > uint64(len(p)) {
		return nil, fmt.Errorf("ICC profile declares %d bytes, has %d", size, len(p))
	}
	p = p[:size]
	if string(p[36:40]) != "acsp" {
		return nil, fmt.Errorf("ICC profile without its 'acsp' signature")
	}
	space, pcs := string(p[16:20]), string(p[20:24])
	prof := &iccProfile{version: p[8]}
	switch {
	case space == "RGB " && channels == 3:
	case space == "GRAY" && channels == 1:
		prof.gray = true
	default:
		return nil, fmt.Errorf("ICC profile for colour space %q on an image with %d colour channels", space, channels)
	}
	if pcs != "XYZ " {
		return nil, fmt.Errorf("ICC profile with connection space %q (only XYZ matrix profiles are applied)", pcs)
	}
	n := binary.BigEndian.Uint32(p[128:])
	if uint64(n) > uint64(size-132)/12 {
		return nil, fmt.Errorf("ICC profile declares %d tags", n)
	}
	tags := map[string][]byte{}
	for i := range int(n) {
		e := p[132+12*i:]
		sig := string(e[:4])
		off, ln := uint64(binary.BigEndian.Uint32(e[4:])), uint64(binary.BigEndian.Uint32(e[8:]))
		if off+ln > uint64(size) || ln < 8 {
			return nil, fmt.Errorf("ICC tag %q out of the profile", sig)
		}
		switch sig {
		case "A2B0", "A2B1", "A2B2", "D2B0", "D2B1", "D2B2":
			return nil, fmt.Errorf("ICC profile with a lookup-table transform (%s)", sig)
		}
		if _, dup := tags[sig]; !dup {
			tags[sig] = p[off : off+ln]
		}
	}
	curve := func(sig string) (iccCurve, error) {
		b, ok := tags[sig]
		if !ok {
			return iccCurve{}, fmt.Errorf("ICC profile without %s", sig)
		}
		return parseICCCurve(b)
	}
	if prof.gray {
		c, err := curve("kTRC")
		if err != nil {
			return nil, err
		}
		prof.trc = [3]iccCurve{c, c, c}
		return prof, nil
	}
	for i, sig := range []string{"rTRC", "gTRC", "bTRC"} {
		c, err := curve(sig)
		if err != nil {
			return nil, err
		}
		prof.trc[i] = c
	}
	for col, sig := range []string{"rXYZ", "gXYZ", "bXYZ"} {
		b, ok := tags[sig]
		if !ok || len(b) < 20 || string(b[:4]) != "XYZ " {
			return nil, fmt.Errorf("ICC profile without a valid %s", sig)
		}
		for row := range 3 {
			prof.toXYZ[row][col] = s15f16(b[8+4*row:])
		}
	}
	return prof, nil
}

func s15f16(b []byte) float64 { return float64(int32(binary.BigEndian.Uint32(b))) / 65536 }

// parseICCCurve reads a 'curv' or 'para' tag.
func parseICCCurve(b []byte) (iccCurve, error) {
	if len(b) < 12 {
		return iccCurve{}, fmt.Errorf("ICC curve too short")
	}
	switch string(b[:4]) {
	case "curv":
		n := uint64(binary.BigEndian.Uint32(b[8:]))
		if 12+2*n > uint64(len(b)) {
			return iccCurve{}, fmt.Errorf("ICC curve of %d entries in %d bytes", n, len(b))
		}
		switch n {
		case 0:
			return iccCurve{typ: 0, para: [7]float64{1, 1}}, nil
		case 1:
			g := float64(binary.BigEndian.Uint16(b[12:])) / 256
			return iccCurve{typ: 0, para: [7]float64{g, 1}}, nil
		}
		t := make([]uint16, n)
		for i := range t {
			t[i] = binary.BigEndian.Uint16(b[12+2*i:])
		}
		return iccCurve{typ: -1, table: t}, nil
	case "para":
		typ := int(binary.BigEndian.Uint16(b[8:]))
		counts := []int{1, 3, 4, 5, 7}
		if typ >= len(counts) {
			return iccCurve{}, fmt.Errorf("ICC parametric curve of unknown type %d", typ)
		}
		if 12+4*counts[typ] > len(b) {
			return iccCurve{}, fmt.Errorf("ICC parametric curve too short")
		}
		c := iccCurve{typ: typ}
		for i := range counts[typ] {
			c.para[i] = s15f16(b[12+4*i:])
		}
		if typ > 0 && c.para[1] == 0 {
			return iccCurve{}, fmt.Errorf("ICC parametric curve with a = 0")
		}
		return c, nil
	}
	return iccCurve{}, fmt.Errorf("ICC curve of type %q", b[:4])
}
