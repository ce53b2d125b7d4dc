package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/nsfw-go/nsfw/internal/engine"
)

// smallFile is a valid model that exercises every op, tensor type and
// metadata type: 6×6×3 input → affine → conv 3×3/2 (U8C) → depthwise
// (U8) → add → avgpool → dense (F32) → softmax over 5 classes.
func smallFile() *File {
	codes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i * 37)
		}
		return b
	}
	floats := func(n int) []float32 {
		f := make([]float32, n)
		for i := range f {
			f[i] = float32(i%7)/7 - 0.4
		}
		return f
	}
	return &File{
		Alignment: 32,
		Meta: []Meta{
			{"general.name", "small"},
			{"general.source", "read_test.go"},
			{"general.license", "MIT"},
			{"nsfw.classes", []string{"Drawing", "Hentai", "Neutral", "Porn", "Sexy"}},
			{"nsfw.input.shape", []uint32{6, 6, 3}},
			{"nsfw.input.range", []float32{0, 1}},
			{"nsfw.preprocess.resize", ResizeBilinearAlignCorners},
			{"test.u32", uint32(7)},
			{"test.f32", float32(0.5)},
		},
		Tensors: []Tensor{
			{Name: "conv/kernel", Type: U8C, Dims: []int{3, 3, 3, 4}, Q: codes(108), Min: -1, Scale: 0.01, ChanMul: []float32{1, 2, -0.5, 0.25}},
			{Name: "conv/bias", Type: F32, Dims: []int{4}, F32: floats(4)},
			{Name: "dw/kernel", Type: U8, Dims: []int{3, 3, 1, 4}, Q: codes(36), Min: -0.5, Scale: 0.004},
			{Name: "dense/kernel", Type: F32, Dims: []int{4, 5}, F32: floats(20)},
			{Name: "dense/bias", Type: U8, Dims: []int{5}, Q: codes(5), Min: -0.1, Scale: 0.001},
		},
		Ops: []Op{
			{Kind: OpAffine, Input: [2]int32{0, -1}, Weight: -1, Bias: -1, Scale: 2, Shift: -1},
			{Kind: OpConv, Activation: ActReLU6, Input: [2]int32{1, -1}, Weight: 0, Bias: 1, Groups: 1, Stride: [2]uint32{2, 2}, Pad: [4]uint32{0, 0, 1, 1}},
			{Kind: OpConv, Activation: ActReLU6, Input: [2]int32{2, -1}, Weight: 2, Bias: -1, Groups: 4, Stride: [2]uint32{1, 1}, Pad: [4]uint32{1, 1, 1, 1}},
			{Kind: OpAdd, Input: [2]int32{2, 3}, Weight: -1, Bias: -1},
			{Kind: OpAvgPool, Input: [2]int32{4, -1}, Weight: -1, Bias: -1, Window: [2]uint32{3, 3}, Stride: [2]uint32{3, 3}},
			{Kind: OpDense, Activation: ActReLU, Input: [2]int32{5, -1}, Weight: 3, Bias: 4},
			{Kind: OpSoftmax, Input: [2]int32{6, -1}, Weight: -1, Bias: -1},
		},
	}
}

func mustMarshal(t testing.TB, f *File) []byte {
	t.Helper()
	b, err := marshal(f, false)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	f := smallFile()
	b, err := Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	g, gg, err := Load(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, b2) {
		t.Fatal("write(read(x)) != x")
	}
	// Dequantization: U8C per channel, U8 per tensor, F32 as is.
	w := gg.Nodes[1].Weights
	if got, want := w[5], float32(float64(float32(float64(float64(codesAt(5))*0.01)+-1))*2); got != want {
		t.Errorf("U8C element 5 (channel 1) = %v, want %v", got, want)
	}
	if got, want := gg.Nodes[2].Weights[3], float32(float64(float64(codesAt(3))*0.004)+-0.5); got != want {
		t.Errorf("U8 element 3 = %v, want %v", got, want)
	}
	if gg.Nodes[5].Weights[8] != f.Tensors[3].F32[8] {
		t.Error("F32 weights changed")
	}
	info, err := g.Info()
	if err != nil || info.InputShape != [3]int{6, 6, 3} || len(info.Classes) != 5 {
		t.Fatalf("info %+v %v", info, err)
	}
	if v, _ := g.Lookup("test.f32"); v != float32(0.5) {
		t.Errorf("f32 metadata = %v", v)
	}
}

func codesAt(i int) byte { return byte(i * 37) }

// TestCorruptions gives each kind of corruption its own case and checks
// that it is rejected with its own message.
func TestCorruptions(t *testing.T) {
	le := binary.LittleEndian
	valid := mustMarshal(t, smallFile())
	dataOffset := int(le.Uint64(valid[32:]))
	fileCase := func(mut func(f *File)) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			f := smallFile()
			mut(f)
			return mustMarshal(t, f)
		}
	}
	byteCase := func(mut func(b []byte) []byte, reseal bool) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			b := mut(append([]byte(nil), valid...))
			if reseal {
				Seal(b)
			}
			return b
		}
	}
	header := func(off int, v uint32) func(t *testing.T) []byte {
		return byteCase(func(b []byte) []byte { le.PutUint32(b[off:], v); return b }, true)
	}
	cases := []struct {
		name string
		make func(t *testing.T) []byte
		want string
	}{
		{"empty", byteCase(func(b []byte) []byte { return nil }, false), "shorter than the 52-byte header and checksum"},
		{"short", byteCase(func(b []byte) []byte { return b[:40] }, false), "shorter than"},
		{"magic", byteCase(func(b []byte) []byte { copy(b, "GGUF\x00\x00\x00\x00"); return b }, true), "bad magic"},
		{"version", header(8, 2), "unsupported version 2"},
		{"alignment not power of two", header(12, 24), "alignment 24"},
		{"alignment too small", header(12, 4), "alignment 4"},
		{"metadata count", header(16, 5000), "metadata count 5000 exceeds"},
		{"tensor count", header(20, 70000), "tensor count 70000 exceeds"},
		{"no ops", header(24, 0), "op count is 0"},
		{"op count", header(24, 70000), "op count 70000 exceeds"},
		{"reserved", header(28, 1), "reserved header field is 1"},
		{"data offset unaligned", byteCase(func(b []byte) []byte { le.PutUint64(b[32:], uint64(dataOffset+8)); return b }, true), "is not a multiple of the alignment"},
		{"data offset outside", byteCase(func(b []byte) []byte { le.PutUint64(b[32:], 1<<40); return b }, true), "the data section starts at byte 1099511627776"},
		{"data offset inside header", byteCase(func(b []byte) []byte { le.PutUint64(b[32:], 32); return b }, true), "is inside the 48-byte header"},
		{"truncated", byteCase(func(b []byte) []byte { return b[:len(b)-10] }, false), "file is truncated"},
		{"huge data size", byteCase(func(b []byte) []byte { le.PutUint64(b[40:], math.MaxUint64-2); return b }, true), "file is truncated"},
		{"trailing bytes", byteCase(func(b []byte) []byte { return append(b, 0, 0, 0) }, false), "3 trailing bytes"},
		{"checksum", byteCase(func(b []byte) []byte { b[len(b)-5] ^= 0xff; return b }, false), "checksum mismatch"},
		{"tables past data", header(24, 60000), "op table at byte"},
		{"padding", fileCase(func(f *File) {}), ""}, // valid baseline, replaced below
		{"string too long", fileCase(func(f *File) { f.Meta[0].Value = strings.Repeat("x", maxString+1) }), "over the 1048576-byte limit"},
		{"not utf8", fileCase(func(f *File) { f.Meta[0].Value = "\xff\xfe" }), "not valid UTF-8"},
		{"empty key", fileCase(func(f *File) { f.Meta[7].Key = "" }), "empty key"},
		{"duplicate key", fileCase(func(f *File) { f.Meta[7].Key = "general.name" }), `"general.name" appears twice`},
		{"array too long", fileCase(func(f *File) { f.Meta[7].Value = make([]uint32, maxArray+1) }), "elements, over the limit"},
		{"missing key", fileCase(func(f *File) { f.Meta = f.Meta[1:] }), `required metadata "general.name" is missing`},
		{"mistyped key", fileCase(func(f *File) { f.Meta[3].Value = "Drawing" }), `metadata "nsfw.classes" has type 3`},
		{"resize method", fileCase(func(f *File) { f.Meta[6].Value = "nearest" }), "unsupported resize method"},
		{"input shape", fileCase(func(f *File) { f.Meta[4].Value = []uint32{6, 6, 4} }), "nsfw.input.shape"},
		{"input range", fileCase(func(f *File) { f.Meta[5].Value = []float32{1, 0} }), "nsfw.input.range"},
		{"one class", fileCase(func(f *File) { f.Meta[3].Value = []string{"x"} }), "at least 2"},
		{"empty class", fileCase(func(f *File) { f.Meta[3].Value = []string{"a", "", "c", "d", "e"} }), "entry 1 is empty"},
		{"class count", fileCase(func(f *File) { f.Meta[3].Value = []string{"a", "b", "c", "d"} }), "outputs 5 values but names 4 classes"},
		{"tensor type", fileCase(func(f *File) { f.Tensors[1].Type = 9 }), `tensor "conv/bias" has unknown type 9`},
		{"rank 0", fileCase(func(f *File) { f.Tensors[1].Dims = nil }), "has rank 0"},
		{"rank 5", fileCase(func(f *File) { f.Tensors[1].Dims = []int{1, 1, 1, 1, 4} }), "has rank 5"},
		{"zero dim", fileCase(func(f *File) { f.Tensors[1].Dims = []int{0} }), "dimension 0 of size 0"},
		{"too many elements", tensorDims(valid, 3, 1<<14, 1<<15), "more than 268435456 elements"},
		{"duplicate tensor", fileCase(func(f *File) { f.Tensors[1].Name = "conv/kernel" }), `tensor name "conv/kernel" appears twice`},
		{"zero scale", fileCase(func(f *File) { f.Tensors[2].Scale = 0 }), "scale 0, want > 0"},
		{"nan min", fileCase(func(f *File) { f.Tensors[2].Min = math.NaN() }), "non-finite quantization parameter"},
		{"min on F32", fileCase(func(f *File) { f.Tensors[1].Min = 1 }), "only U8 and U8C use"},
		{"zero scale on U8C", fileCase(func(f *File) { f.Tensors[0].Scale = 0 }), "scale 0, want > 0"},
		{"nan channel factor", fileCase(func(f *File) { f.Tensors[0].ChanMul[2] = float32(math.Inf(1)) }), "channel 2 has a non-finite factor"},
		{"nan float", fileCase(func(f *File) { f.Tensors[1].F32[0] = float32(math.NaN()) }), "element 0 is not finite"},
		{"unknown meta type", unknownMetaType(valid), "unknown type 77"},
		{"tensor offset unaligned", tensorOffset(valid, 1, 4), "is not a multiple of the alignment"},
		{"tensor outside data", tensorOffset(valid, 1, 1<<20), "lies outside the"},
		{"tensors overlap", tensorOffset(valid, 1, 0), "overlaps"},
		{"op kind", fileCase(func(f *File) { f.Ops[3].Kind = 42 }), "op 3 has unknown kind 42"},
		{"activation", fileCase(func(f *File) { f.Ops[1].Activation = 3 }), "unknown activation 3"},
		{"op reserved", fileCase(func(f *File) { f.Ops[1].reserved = 5 }), "reserved field 5"},
		{"forward value", fileCase(func(f *File) { f.Ops[1].Input[0] = 4 }), "reads value 4, which is not defined"},
		{"negative value", fileCase(func(f *File) { f.Ops[3].Input[1] = -1 }), "reads value -1"},
		{"second input", fileCase(func(f *File) { f.Ops[1].Input[1] = 0 }), "second input 0"},
		{"weight index", fileCase(func(f *File) { f.Ops[1].Weight = 9 }), "weight tensor index 9 is out of range"},
		{"missing weight", fileCase(func(f *File) { f.Ops[5].Weight = -1 }), "has no weight tensor"},
		{"weights on add", fileCase(func(f *File) { f.Ops[3].Bias = 1 }), "takes none"},
		{"groups on add", fileCase(func(f *File) { f.Ops[3].Groups = 1 }), "only conv uses"},
		{"zero groups", fileCase(func(f *File) { f.Ops[1].Groups = 0 }), "0 groups"},
		{"window on conv", fileCase(func(f *File) { f.Ops[1].Window = [2]uint32{3, 3} }), "only avgpool uses"},
		{"stride on dense", fileCase(func(f *File) { f.Ops[5].Stride = [2]uint32{1, 1} }), "only conv and avgpool use"},
		{"scale on conv", fileCase(func(f *File) { f.Ops[1].Scale = 1 }), "only affine uses"},
		{"nan affine", fileCase(func(f *File) { f.Ops[0].Scale = float32(math.NaN()) }), "non-finite scale"},
		{"activation on softmax", fileCase(func(f *File) { f.Ops[6].Activation = ActReLU }), "takes no activation"},
		{"unused tensor", fileCase(func(f *File) { f.Ops[5].Bias = -1 }), `tensor "dense/bias" is not used`},
		{"conv weight rank", fileCase(func(f *File) { f.Tensors[0].Dims = []int{27, 4}; f.Tensors[0].Q = f.Tensors[0].Q[:108] }), "has rank 2"},
		{"bias rank", fileCase(func(f *File) { f.Tensors[1].Dims = []int{2, 2} }), "bias tensor \"conv/bias\" has rank 2"},
		{"channel mismatch", fileCase(func(f *File) { f.Ops[2].Groups = 2 }), "channels"},
		{"shape: dense input", fileCase(func(f *File) { f.Ops[5].Input[0] = 4 }), "weights expect"},
	}
	// Non-zero padding between the op table and the data.
	cases[19] = struct {
		name string
		make func(t *testing.T) []byte
		want string
	}{"padding", byteCase(func(b []byte) []byte {
		nonZeroPad(t, b)
		return b
	}, true), "padding before the data section is not zero"}

	seen := map[string]string{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := c.make(t)
			_, _, err := Load(b)
			if err == nil {
				t.Fatalf("accepted")
			}
			if !errors.Is(err, ErrFormat) {
				t.Errorf("error does not wrap ErrFormat: %v", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not contain %q", err, c.want)
			}
		})
		seen[c.want] = c.name
	}
	_ = engine.ErrInvalid
}

// nonZeroPad sets a byte between the end of the op table and the data.
func nonZeroPad(t *testing.T, b []byte) {
	le := binary.LittleEndian
	dataOffset := int(le.Uint64(b[32:]))
	f := smallFile()
	tableEnd := dataOffset
	// The tables end where the zero padding starts: find the last non-zero
	// byte before the data (the op table's last fields are zero, so scan
	// from the computed table size instead).
	size := headerSize
	for _, m := range f.Meta {
		size += 4 + len(m.Key) + 4
		switch v := m.Value.(type) {
		case uint32, float32:
			size += 4
		case string:
			size += 4 + len(v)
		case []uint32:
			size += 4 + 4*len(v)
		case []float32:
			size += 4 + 4*len(v)
		case []string:
			size += 4
			for _, s := range v {
				size += 4 + len(s)
			}
		}
	}
	for _, tn := range f.Tensors {
		size += 4 + len(tn.Name) + 4 + 4 + 4*len(tn.Dims) + 8 + 8 + 8
	}
	size += opSize * len(f.Ops)
	if size >= tableEnd {
		t.Fatalf("no padding to corrupt (tables end at %d, data at %d)", size, tableEnd)
	}
	b[size] = 1
}

// unknownMetaType rewrites the type of the last metadata entry.
func unknownMetaType(valid []byte) func(t *testing.T) []byte {
	return func(t *testing.T) []byte {
		b := append([]byte(nil), valid...)
		key := []byte("test.f32")
		i := bytes.Index(b, key)
		if i < 0 {
			t.Fatal("key not found")
		}
		binary.LittleEndian.PutUint32(b[i+len(key):], 77)
		Seal(b)
		return b
	}
}

// tensorDims rewrites the two dims of rank-2 tensor idx in place.
func tensorDims(valid []byte, idx int, d0, d1 uint32) func(t *testing.T) []byte {
	return func(t *testing.T) []byte {
		b := append([]byte(nil), valid...)
		name := []byte(smallFile().Tensors[idx].Name)
		i := bytes.Index(b, name)
		if i < 0 || binary.LittleEndian.Uint32(b[i+len(name)+4:]) != 2 {
			t.Fatal("rank-2 tensor not found")
		}
		binary.LittleEndian.PutUint32(b[i+len(name)+8:], d0)
		binary.LittleEndian.PutUint32(b[i+len(name)+12:], d1)
		Seal(b)
		return b
	}
}

// tensorOffset rewrites tensor idx's data offset.
func tensorOffset(valid []byte, idx int, off uint64) func(t *testing.T) []byte {
	return func(t *testing.T) []byte {
		b := append([]byte(nil), valid...)
		name := []byte(smallFile().Tensors[idx].Name)
		i := bytes.Index(b, name)
		if i < 0 {
			t.Fatal("tensor not found")
		}
		rank := int(binary.LittleEndian.Uint32(b[i+len(name)+4:]))
		p := i + len(name) + 8 + 4*rank + 16
		binary.LittleEndian.PutUint64(b[p:], off)
		Seal(b)
		return b
	}
}

func TestWriteRefusesInvalid(t *testing.T) {
	f := smallFile()
	f.Ops[1].Input[0] = 5
	if _, err := Marshal(f); err == nil {
		t.Fatal("Marshal wrote an invalid model")
	}
	f = smallFile()
	f.Tensors[0].Q = f.Tensors[0].Q[:10]
	if _, err := Marshal(f); err == nil {
		t.Fatal("Marshal accepted a tensor with missing codes")
	}
}

// FuzzLoad feeds corrupt files to the loader: it must return an error
// wrapping ErrFormat or a valid graph, never panic, and never allocate
// much more than the input's size. The fuzzer can skip the checksum so
// that it reaches the structural checks behind it.
func FuzzLoad(f *testing.F) {
	valid := mustMarshal(f, smallFile())
	f.Add(valid, false)
	f.Add(valid[:100], true)
	f.Add(valid[:len(valid)-1], true)
	mut := append([]byte(nil), valid...)
	binary.LittleEndian.PutUint32(mut[20:], 3)
	f.Add(mut, true)
	f.Fuzz(func(t *testing.T, b []byte, skipChecksum bool) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		file, err := read(b, !skipChecksum)
		if err == nil {
			_, err = file.Graph()
		}
		runtime.ReadMemStats(&after)
		if err != nil && !errors.Is(err, ErrFormat) {
			t.Fatalf("error does not wrap ErrFormat: %v", err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > uint64(64*len(b))+4<<20 {
			t.Fatalf("allocated %d bytes for a %d-byte input", grew, len(b))
		}
	})
}
