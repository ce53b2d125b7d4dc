// Package format reads and writes .nsfw model files, whose layout is
// specified in model/SPEC.md, and turns them into engine graphs.
//
// Read validates every field and rejects each kind of corruption with its
// own message; it never panics and never allocates more than a small
// multiple of the file's size, so it is safe on untrusted bytes.
package format

import (
	"errors"
	"math"

	"github.com/nsfw-go/nsfw/internal/errfmt"
	"github.com/nsfw-go/nsfw/internal/kernels"
)

// Magic starts every model file.
const Magic = "NSFWMODL"

// Version is the format version this package reads and writes.
const Version = 1

// Limits from the spec.
const (
	headerSize   = 48
	opSize       = 72
	crcSize      = 4
	maxMeta      = 1024
	maxTensors   = 65536
	maxOps       = 65536
	maxString    = 1 << 20
	maxArray     = 65536
	maxRank      = 4
	maxElements  = 1 << 28
	minAlignment = 8
	maxAlignment = 4096
)

// ErrFormat is wrapped by every error about a malformed model file.
var ErrFormat = errors.New("invalid model file")

func errorf(format string, args ...any) error {
	return errfmt.Errorf("%w: %s", ErrFormat, errfmt.Sprintf(format, args...))
}

// TensorType is how a tensor's elements are stored.
type TensorType uint32

// The tensor types.
const (
	F32 TensorType = 0 // float32
	U8  TensorType = 1 // uint8, one affine (min, scale) for the tensor
	U8C TensorType = 2 // uint8 with one affine, times a factor per channel of the last axis
)

func (t TensorType) String() string {
	switch t {
	case F32:
		return "F32"
	case U8:
		return "U8"
	case U8C:
		return "U8C"
	}
	return errfmt.Sprintf("type(%d)", uint32(t))
}

// Tensor is a named weight tensor. Exactly the fields of its Type are set.
type Tensor struct {
	Name string
	Type TensorType
	Dims []int
	// F32 holds the values of an F32 tensor.
	F32 []float32
	// Q holds the codes of a U8 or U8C tensor.
	Q []byte
	// Min and Scale dequantize a U8 or U8C tensor.
	Min, Scale float64
	// ChanMul multiplies channel c of a U8C tensor (a folded BatchNorm).
	ChanMul []float32
}

// Len is the number of elements.
func (t *Tensor) Len() int {
	n := 1
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// dataSize is the byte size of the tensor's data block.
func (t *Tensor) dataSize() int {
	switch t.Type {
	case F32:
		return 4 * t.Len()
	case U8:
		return t.Len()
	case U8C:
		return 4*t.Dims[len(t.Dims)-1] + t.Len()
	}
	return 0
}

// Floats dequantizes the tensor. U8 follows TF.js exactly: the code times
// the scale plus the min, in float64, rounded once to float32. U8C then
// multiplies that float32 weight by its channel's factor, rounded again.
// kernels.DequantizeRef is the definition; the fastest kernel Set does the
// work (in browsers, the SIMD128 module), bit for bit the same.
func (t *Tensor) Floats() []float32 {
	out := make([]float32, t.Len())
	t.floatsInto(out)
	return out
}

// floatsInto is Floats into out, which holds t.Len() values.
func (t *Tensor) floatsInto(out []float32) {
	switch t.Type {
	case F32:
		copy(out, t.F32)
	case U8, U8C:
		kernels.Best().Dequantize(out, t.Q, t.Scale, t.Min, t.ChanMul)
	}
}

// MetaType is the type of a metadata value.
type MetaType uint32

// The metadata types, and the Go type of Meta.Value for each.
const (
	MetaU32         MetaType = 1 // uint32
	MetaF32         MetaType = 2 // float32
	MetaString      MetaType = 3 // string
	MetaU32Array    MetaType = 4 // []uint32
	MetaF32Array    MetaType = 5 // []float32
	MetaStringArray MetaType = 6 // []string
)

// Meta is one metadata entry.
type Meta struct {
	Key   string
	Value any
}

func metaType(v any) (MetaType, bool) {
	switch v.(type) {
	case uint32:
		return MetaU32, true
	case float32:
		return MetaF32, true
	case string:
		return MetaString, true
	case []uint32:
		return MetaU32Array, true
	case []float32:
		return MetaF32Array, true
	case []string:
		return MetaStringArray, true
	}
	return 0, false
}

// Op kinds and activations, as stored (see SPEC.md).
const (
	OpConv    = 1
	OpAdd     = 2
	OpAffine  = 3
	OpAvgPool = 4
	OpDense   = 5
	OpSoftmax = 6

	ActLinear = 0
	ActReLU   = 1
	ActReLU6  = 2
)

var opNames = map[uint32]string{OpConv: "conv", OpAdd: "add", OpAffine: "affine", OpAvgPool: "avgpool", OpDense: "dense", OpSoftmax: "softmax"}

// Op is one op record.
type Op struct {
	Kind         uint32
	Activation   uint32
	Input        [2]int32
	Weight, Bias int32
	Groups       uint32
	Window       [2]uint32
	Stride       [2]uint32
	Pad          [4]uint32
	Scale, Shift float32
	reserved     uint32 // must be 0; kept so Read can reject files that set it
}

// File is a decoded model file.
type File struct {
	Alignment int
	Meta      []Meta
	Tensors   []Tensor
	Ops       []Op
}

// Lookup returns the value of a metadata key.
func (f *File) Lookup(key string) (any, bool) {
	for _, m := range f.Meta {
		if m.Key == key {
			return m.Value, true
		}
	}
	return nil, false
}

// Info is the typed view of the required metadata.
type Info struct {
	Name       string
	Source     string
	License    string
	Classes    []string
	InputShape [3]int // height, width, channels
	InputRange [2]float32
	Resize     string
}

// ResizeBilinearAlignCorners is the only resize method of version 1.
const ResizeBilinearAlignCorners = "bilinear-align-corners"

func isFinite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// label names what the reader is reading or checking, for error messages.
// It is turned into text only when an error is reported, so that a valid
// file is read without formatting anything: in a browser the loader runs
// in V8's baseline tier, where building a label per tensor and op cost
// more than the rest of reading the tables, and made V8 spend tens of
// milliseconds compiling the formatting code in its optimizing tier.
type label struct {
	kind  string // "tensor", "metadata", "op", or a whole name ("op table")
	index int    // numbered labels and ops; -1: none
	name  string // named labels: a tensor name or metadata key, quoted
	named bool
	op    string // ops: the kind, in parentheses
	field string // appended: " type", " rank", ...
}

func fixed(s string) label              { return label{kind: s, index: -1} }
func numbered(kind string, i int) label { return label{kind: kind, index: i} }
func named(kind, name string) label     { return label{kind: kind, index: -1, name: name, named: true} }
func opLabel(i int, kind string) label  { return label{kind: "op", index: i, op: kind} }
func (l label) with(field string) label { l.field += field; return l }

func (l label) String() string {
	s := l.kind
	switch {
	case l.op != "":
		s += " " + itoa(l.index) + " (" + l.op + ")"
	case l.named:
		s += " " + quote(l.name)
	case l.index >= 0:
		s += " " + itoa(l.index)
	}
	return s + l.field
}
