package format

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math"

	"github.com/nsfw-go/nsfw/internal/errfmt"
)

// Write encodes f. The output is deterministic: the same File always gives
// the same bytes. Write checks what it can and reads the result back, so
// it never produces a file Read would reject.
func Write(w io.Writer, f *File) error {
	b, err := Marshal(f)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Marshal is Write into a byte slice.
func Marshal(f *File) ([]byte, error) { return marshal(f, true) }

// marshal encodes f, and reads it back when check is set; tests turn the
// check off to build corrupt files.
func marshal(f *File, check bool) ([]byte, error) {
	align := f.Alignment
	if align == 0 {
		align = 32
	}
	var tab bytes.Buffer
	le := binary.LittleEndian
	u32 := func(v uint32) { _ = binary.Write(&tab, le, v) }
	str := func(s string) { u32(uint32(len(s))); tab.WriteString(s) }

	tab.Write(make([]byte, headerSize))
	for _, m := range f.Meta {
		t, ok := metaType(m.Value)
		if !ok {
			return nil, errfmt.Errorf("metadata %q: unsupported value type", m.Key)
		}
		str(m.Key)
		u32(uint32(t))
		switch v := m.Value.(type) {
		case uint32:
			u32(v)
		case float32:
			u32(math.Float32bits(v))
		case string:
			str(v)
		case []uint32:
			u32(uint32(len(v)))
			for _, x := range v {
				u32(x)
			}
		case []float32:
			u32(uint32(len(v)))
			for _, x := range v {
				u32(math.Float32bits(x))
			}
		case []string:
			u32(uint32(len(v)))
			for _, x := range v {
				str(x)
			}
		}
	}
	// Lay out tensor data in order, each block aligned.
	offsets := make([]uint64, len(f.Tensors))
	var dataSize uint64
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if err := t.consistent(); err != nil && check {
			return nil, err
		}
		dataSize = roundUp(dataSize, uint64(align))
		offsets[i] = dataSize
		dataSize += uint64(t.dataSize())
	}
	for i := range f.Tensors {
		t := &f.Tensors[i]
		str(t.Name)
		u32(uint32(t.Type))
		u32(uint32(len(t.Dims)))
		for _, d := range t.Dims {
			u32(uint32(d))
		}
		_ = binary.Write(&tab, le, t.Min)
		_ = binary.Write(&tab, le, t.Scale)
		_ = binary.Write(&tab, le, offsets[i])
	}
	for _, op := range f.Ops {
		for _, v := range []uint32{op.Kind, op.Activation, uint32(op.Input[0]), uint32(op.Input[1]), uint32(op.Weight), uint32(op.Bias),
			op.Groups, op.Window[0], op.Window[1], op.Stride[0], op.Stride[1], op.Pad[0], op.Pad[1], op.Pad[2], op.Pad[3],
			math.Float32bits(op.Scale), math.Float32bits(op.Shift), op.reserved} {
			u32(v)
		}
	}
	dataOffset := roundUp(uint64(tab.Len()), uint64(align))
	out := make([]byte, dataOffset+dataSize+crcSize)
	copy(out, tab.Bytes())
	h := out[:headerSize]
	copy(h, Magic)
	le.PutUint32(h[8:], Version)
	le.PutUint32(h[12:], uint32(align))
	le.PutUint32(h[16:], uint32(len(f.Meta)))
	le.PutUint32(h[20:], uint32(len(f.Tensors)))
	le.PutUint32(h[24:], uint32(len(f.Ops)))
	le.PutUint64(h[32:], dataOffset)
	le.PutUint64(h[40:], dataSize)
	data := out[dataOffset : dataOffset+dataSize]
	for i := range f.Tensors {
		t := &f.Tensors[i]
		blk := data[offsets[i]:]
		switch t.Type {
		case F32:
			for j, v := range t.F32 {
				le.PutUint32(blk[4*j:], math.Float32bits(v))
			}
		case U8:
			copy(blk, t.Q)
		case U8C:
			ch := len(t.ChanMul)
			for j, m := range t.ChanMul {
				le.PutUint32(blk[4*j:], math.Float32bits(m))
			}
			copy(blk[4*ch:], t.Q)
		}
	}
	Seal(out)
	if !check {
		return out, nil
	}
	if _, _, err := Load(out); err != nil {
		return nil, errfmt.Errorf("refusing to write an invalid model: %w", err)
	}
	return out, nil
}

// Seal recomputes the trailing checksum of an encoded file in place.
func Seal(b []byte) {
	if len(b) < crcSize {
		return
	}
	binary.LittleEndian.PutUint32(b[len(b)-crcSize:], crc32.Checksum(b[:len(b)-crcSize], castagnoli))
}

func roundUp(n, a uint64) uint64 { return (n + a - 1) / a * a }

// consistent checks that a Tensor built in memory has the fields its type needs.
func (t *Tensor) consistent() error {
	if len(t.Dims) == 0 {
		return errfmt.Errorf("tensor %q has no dims", t.Name)
	}
	n := t.Len()
	switch t.Type {
	case F32:
		if len(t.F32) != n {
			return errfmt.Errorf("tensor %q: %d floats for %d elements", t.Name, len(t.F32), n)
		}
	case U8:
		if len(t.Q) != n {
			return errfmt.Errorf("tensor %q: %d codes for %d elements", t.Name, len(t.Q), n)
		}
	case U8C:
		c := t.Dims[len(t.Dims)-1]
		if len(t.Q) != n || len(t.ChanMul) != c {
			return errfmt.Errorf("tensor %q: %d codes, %d channel factors for %v", t.Name, len(t.Q), len(t.ChanMul), t.Dims)
		}
	default:
		return errfmt.Errorf("tensor %q: unknown type %d", t.Name, uint32(t.Type))
	}
	return nil
}
