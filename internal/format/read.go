package format

import (
	"encoding/binary"
	"hash/crc32"
	"math"
	"math/bits"
	"unicode/utf8"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Read parses and validates a model file. The returned File's quantized
// codes alias b; b must not be modified while the File is in use.
func Read(b []byte) (*File, error) {
	f, err := read(b, true)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// cursor reads the table region [pos, end) of the file.
type cursor struct {
	b   []byte
	pos int
	end int
}

func (c *cursor) need(n int, what label) error {
	if n < 0 || n > c.end-c.pos {
		return errorf("%s at byte %d runs past the start of the data section (byte %d)", what, c.pos, c.end)
	}
	return nil
}

func (c *cursor) u32(what label) (uint32, error) {
	if err := c.need(4, what); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint32(c.b[c.pos:])
	c.pos += 4
	return v, nil
}

func (c *cursor) u64(what label) (uint64, error) {
	if err := c.need(8, what); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint64(c.b[c.pos:])
	c.pos += 8
	return v, nil
}

func (c *cursor) f64(what label) (float64, error) {
	v, err := c.u64(what)
	return math.Float64frombits(v), err
}

func (c *cursor) str(what label) (string, error) {
	n, err := c.u32(what.with(" length"))
	if err != nil {
		return "", err
	}
	if n > maxString {
		return "", errorf("%s is %d bytes, over the %d-byte limit", what, n, maxString)
	}
	if err := c.need(int(n), what); err != nil {
		return "", err
	}
	s := c.b[c.pos : c.pos+int(n)]
	c.pos += int(n)
	if !utf8.Valid(s) {
		return "", errorf("%s is not valid UTF-8", what)
	}
	return string(s), nil
}

// arrayLen reads an array length and checks that n elements of elemSize
// bytes can fit in what remains, before anything is allocated.
func (c *cursor) arrayLen(what label, elemSize int) (int, error) {
	n, err := c.u32(what.with(" length"))
	if err != nil {
		return 0, err
	}
	if n > maxArray {
		return 0, errorf("%s has %d elements, over the limit of %d", what, n, maxArray)
	}
	if err := c.need(int(n)*elemSize, what); err != nil {
		return 0, err
	}
	return int(n), nil
}

func read(b []byte, verifyChecksum bool) (*File, error) {
	if len(b) < headerSize+crcSize {
		return nil, errorf("file is %d bytes, shorter than the %d-byte header and checksum", len(b), headerSize+crcSize)
	}
	if string(b[:8]) != Magic {
		return nil, errorf("bad magic %q: not an nsfw model file", b[:8])
	}
	le := binary.LittleEndian
	version := le.Uint32(b[8:])
	alignment := le.Uint32(b[12:])
	metaCount := le.Uint32(b[16:])
	tensorCount := le.Uint32(b[20:])
	opCount := le.Uint32(b[24:])
	reserved := le.Uint32(b[28:])
	dataOffset := le.Uint64(b[32:])
	dataSize := le.Uint64(b[40:])
	if version != Version {
		return nil, errorf("unsupported version %d (this reader supports version %d)", version, Version)
	}
	if alignment < minAlignment || alignment > maxAlignment || bits.OnesCount32(alignment) != 1 {
		return nil, errorf("alignment %d is not a power of two between %d and %d", alignment, minAlignment, maxAlignment)
	}
	if metaCount > maxMeta {
		return nil, errorf("metadata count %d exceeds the limit of %d", metaCount, maxMeta)
	}
	if tensorCount > maxTensors {
		return nil, errorf("tensor count %d exceeds the limit of %d", tensorCount, maxTensors)
	}
	if opCount == 0 {
		return nil, errorf("op count is 0: a model needs at least one op")
	}
	if opCount > maxOps {
		return nil, errorf("op count %d exceeds the limit of %d", opCount, maxOps)
	}
	if reserved != 0 {
		return nil, errorf("reserved header field is %d, want 0", reserved)
	}
	if dataOffset%uint64(alignment) != 0 {
		return nil, errorf("data offset %d is not a multiple of the alignment %d", dataOffset, alignment)
	}
	if dataOffset < headerSize {
		return nil, errorf("data offset %d is inside the %d-byte header", dataOffset, headerSize)
	}
	if dataOffset > uint64(len(b)) {
		return nil, errorf("file is truncated: %d bytes, the data section starts at byte %d", len(b), dataOffset)
	}
	want := dataOffset + dataSize + crcSize
	if dataSize > uint64(len(b)) || want > uint64(len(b)) {
		return nil, errorf("file is truncated: %d bytes, the header says %d", len(b), want)
	}
	if want < uint64(len(b)) {
		return nil, errorf("%d trailing bytes after the checksum", uint64(len(b))-want)
	}

	c := &cursor{b: b, pos: headerSize, end: int(dataOffset)}
	f := &File{Alignment: int(alignment)}
	var err error
	if f.Meta, err = readMeta(c, int(metaCount)); err != nil {
		return nil, err
	}
	if f.Tensors, err = readTensors(c, int(tensorCount), b[dataOffset:dataOffset+dataSize], int(alignment)); err != nil {
		return nil, err
	}
	if err := c.need(int(opCount)*opSize, fixed("op table")); err != nil {
		return nil, err
	}
	f.Ops = make([]Op, opCount)
	for i := range f.Ops {
		f.Ops[i] = decodeOp(b[c.pos:])
		c.pos += opSize
	}
	for i := c.pos; i < int(dataOffset); i++ {
		if b[i] != 0 {
			return nil, errorf("padding before the data section is not zero at byte %d", i)
		}
	}
	if verifyChecksum {
		stored := le.Uint32(b[len(b)-crcSize:])
		if got := crc32.Checksum(b[:len(b)-crcSize], castagnoli); got != stored {
			return nil, errorf("checksum mismatch: stored %08x, computed %08x (the file is corrupt)", stored, got)
		}
	}
	if _, err := f.Info(); err != nil {
		return nil, err
	}
	if err := f.checkOps(); err != nil {
		return nil, err
	}
	return f, nil
}

func readMeta(c *cursor, n int) ([]Meta, error) {
	// Each entry is at least a key length, one key byte and a type.
	if err := c.need(n*9, fixed("metadata table")); err != nil {
		return nil, err
	}
	meta := make([]Meta, 0, n)
	seen := make(map[string]bool, n)
	for i := 0; i < n; i++ {
		what := numbered("metadata", i)
		key, err := c.str(what.with(" key"))
		if err != nil {
			return nil, err
		}
		if key == "" {
			return nil, errorf("%s has an empty key", what)
		}
		if seen[key] {
			return nil, errorf("metadata key %q appears twice", key)
		}
		seen[key] = true
		what = named("metadata", key)
		typ, err := c.u32(what.with(" type"))
		if err != nil {
			return nil, err
		}
		var v any
		switch MetaType(typ) {
		case MetaU32:
			v, err = c.u32(what)
		case MetaF32:
			var u uint32
			u, err = c.u32(what)
			v = math.Float32frombits(u)
		case MetaString:
			v, err = c.str(what)
		case MetaU32Array, MetaF32Array:
			var k int
			if k, err = c.arrayLen(what, 4); err != nil {
				return nil, err
			}
			if MetaType(typ) == MetaU32Array {
				a := make([]uint32, k)
				for j := range a {
					a[j], _ = c.u32(what)
				}
				v = a
			} else {
				a := make([]float32, k)
				for j := range a {
					u, _ := c.u32(what)
					a[j] = math.Float32frombits(u)
				}
				v = a
			}
		case MetaStringArray:
			var k int
			if k, err = c.arrayLen(what, 4); err != nil {
				return nil, err
			}
			a := make([]string, k)
			for j := range a {
				if a[j], err = c.str(what.with(" element " + itoa(j))); err != nil {
					return nil, err
				}
			}
			v = a
		default:
			return nil, errorf("%s has unknown type %d", what, typ)
		}
		if err != nil {
			return nil, err
		}
		meta = append(meta, Meta{Key: key, Value: v})
	}
	return meta, nil
}

func readTensors(c *cursor, n int, data []byte, alignment int) ([]Tensor, error) {
	// Each record is at least: name length, 1 name byte, type, rank, one
	// dim, min, scale, offset.
	if err := c.need(n*37, fixed("tensor table")); err != nil {
		return nil, err
	}
	ts := make([]Tensor, n)
	names := make(map[string]bool, n)
	type span struct{ start, end, idx int }
	spans := make([]span, 0, n)
	for i := range ts {
		t := &ts[i]
		what := numbered("tensor", i)
		var err error
		if t.Name, err = c.str(what.with(" name")); err != nil {
			return nil, err
		}
		if names[t.Name] {
			return nil, errorf("tensor name %q appears twice", t.Name)
		}
		names[t.Name] = true
		what = named("tensor", t.Name)
		typ, err := c.u32(what.with(" type"))
		if err != nil {
			return nil, err
		}
		t.Type = TensorType(typ)
		if t.Type != F32 && t.Type != U8 && t.Type != U8C {
			return nil, errorf("%s has unknown type %d", what, typ)
		}
		rank, err := c.u32(what.with(" rank"))
		if err != nil {
			return nil, err
		}
		if rank < 1 || rank > maxRank {
			return nil, errorf("%s has rank %d, want 1 to %d", what, rank, maxRank)
		}
		t.Dims = make([]int, rank)
		elems := 1
		for d := range t.Dims {
			v, err := c.u32(what.with(" dims"))
			if err != nil {
				return nil, err
			}
			if v < 1 || v > maxElements {
				return nil, errorf("%s has dimension %d of size %d", what, d, v)
			}
			t.Dims[d] = int(v)
			elems *= int(v)
			if elems > maxElements {
				return nil, errorf("%s has more than %d elements", what, maxElements)
			}
		}
		if t.Min, err = c.f64(what.with(" min")); err != nil {
			return nil, err
		}
		if t.Scale, err = c.f64(what.with(" scale")); err != nil {
			return nil, err
		}
		off, err := c.u64(what.with(" offset"))
		if err != nil {
			return nil, err
		}
		if t.Type == U8 || t.Type == U8C {
			if !isFinite(t.Min) || !isFinite(t.Scale) {
				return nil, errorf("%s has a non-finite quantization parameter (min %v, scale %v)", what, t.Min, t.Scale)
			}
			if !(t.Scale > 0) {
				return nil, errorf("%s has scale %v, want > 0", what, t.Scale)
			}
		} else if t.Min != 0 || t.Scale != 0 {
			return nil, errorf("%s is %s but sets min/scale, which only U8 and U8C use", what, t.Type)
		}
		if off%uint64(alignment) != 0 {
			return nil, errorf("%s data offset %d is not a multiple of the alignment %d", what, off, alignment)
		}
		size := t.dataSize()
		if off > uint64(len(data)) || uint64(size) > uint64(len(data))-off {
			return nil, errorf("%s data [%d, %d) lies outside the %d-byte data section", what, off, off+uint64(size), len(data))
		}
		blk := data[off : int(off)+size]
		switch t.Type {
		case F32:
			t.F32 = make([]float32, elems)
			if j := decodeF32(t.F32, blk); j >= 0 {
				return nil, errorf("%s element %d is not finite", what, j)
			}
		case U8:
			t.Q = blk
		case U8C:
			ch := t.Dims[rank-1]
			t.ChanMul = make([]float32, ch)
			if j := decodeF32(t.ChanMul, blk); j >= 0 {
				return nil, errorf("%s channel %d has a non-finite factor", what, j)
			}
			t.Q = blk[4*ch:]
		}
		spans = append(spans, span{int(off), int(off) + size, i})
	}
	// Sort spans by start (insertion sort keeps this allocation-free and n is small).
	for i := 1; i < len(spans); i++ {
		for j := i; j > 0 && spans[j].start < spans[j-1].start; j-- {
			spans[j], spans[j-1] = spans[j-1], spans[j]
		}
	}
	for i := 1; i < len(spans); i++ {
		if spans[i].start < spans[i-1].end {
			return nil, errorf("tensor %q overlaps tensor %q in the data section", ts[spans[i].idx].Name, ts[spans[i-1].idx].Name)
		}
	}
	return ts, nil
}

// decodeF32 fills dst from little-endian float32s in b and returns the
// index of the first value that is not finite, or -1. It is its own small
// function so that in browsers V8's optimizing tier, which a loop over
// every bias earns, compiles only it and not all of readTensors.
func decodeF32(dst []float32, b []byte) int {
	b = b[:4*len(dst)]
	for j := range dst {
		dst[j] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*j:]))
		if !isFinite(float64(dst[j])) {
			return j
		}
	}
	return -1
}

func decodeOp(b []byte) Op {
	le := binary.LittleEndian
	u := func(i int) uint32 { return le.Uint32(b[4*i:]) }
	return Op{
		Kind:       u(0),
		Activation: u(1),
		Input:      [2]int32{int32(u(2)), int32(u(3))},
		Weight:     int32(u(4)),
		Bias:       int32(u(5)),
		Groups:     u(6),
		Window:     [2]uint32{u(7), u(8)},
		Stride:     [2]uint32{u(9), u(10)},
		Pad:        [4]uint32{u(11), u(12), u(13), u(14)},
		Scale:      math.Float32frombits(u(15)),
		Shift:      math.Float32frombits(u(16)),
		reserved:   u(17),
	}
}
