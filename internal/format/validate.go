package format

import (
	"strconv"

	"github.com/nsfw-go/nsfw/internal/engine"
	"github.com/nsfw-go/nsfw/internal/errfmt"
)

func itoa(i int) string     { return strconv.Itoa(i) }
func quote(s string) string { return strconv.Quote(s) }

func (f *File) metaOf(key string, want MetaType) (any, error) {
	v, ok := f.Lookup(key)
	if !ok {
		return nil, errorf("required metadata %q is missing", key)
	}
	if t, _ := metaType(v); t != want {
		return nil, errorf("metadata %q has type %d, want %d", key, uint32(t), uint32(want))
	}
	return v, nil
}

// Info returns the required metadata, checked.
func (f *File) Info() (Info, error) {
	var in Info
	strs := map[string]*string{"general.name": &in.Name, "general.source": &in.Source, "general.license": &in.License, "nsfw.preprocess.resize": &in.Resize}
	for _, key := range []string{"general.name", "general.source", "general.license", "nsfw.preprocess.resize"} {
		v, err := f.metaOf(key, MetaString)
		if err != nil {
			return in, err
		}
		*strs[key] = v.(string)
	}
	if in.Resize != ResizeBilinearAlignCorners {
		return in, errorf("unsupported resize method %q (want %q)", in.Resize, ResizeBilinearAlignCorners)
	}
	v, err := f.metaOf("nsfw.classes", MetaStringArray)
	if err != nil {
		return in, err
	}
	in.Classes = v.([]string)
	if len(in.Classes) < 2 {
		return in, errorf("nsfw.classes has %d classes, want at least 2", len(in.Classes))
	}
	for i, c := range in.Classes {
		if c == "" {
			return in, errorf("nsfw.classes entry %d is empty", i)
		}
	}
	v, err = f.metaOf("nsfw.input.shape", MetaU32Array)
	if err != nil {
		return in, err
	}
	shape := v.([]uint32)
	if len(shape) != 3 || shape[0] < 1 || shape[1] < 1 || shape[0] > 4096 || shape[1] > 4096 || shape[2] != 3 {
		return in, errorf("nsfw.input.shape is %v, want [height width 3] with sides in [1, 4096]", shape)
	}
	in.InputShape = [3]int{int(shape[0]), int(shape[1]), int(shape[2])}
	v, err = f.metaOf("nsfw.input.range", MetaF32Array)
	if err != nil {
		return in, err
	}
	rng := v.([]float32)
	if len(rng) != 2 || !isFinite(float64(rng[0])) || !isFinite(float64(rng[1])) || !(rng[0] < rng[1]) {
		return in, errorf("nsfw.input.range is %v, want two finite values lo < hi", rng)
	}
	in.InputRange = [2]float32{rng[0], rng[1]}
	return in, nil
}

// checkOps validates every op record against the spec, short of shapes.
func (f *File) checkOps() error {
	used := make([]bool, len(f.Tensors))
	for i := range f.Ops {
		op := &f.Ops[i]
		name, ok := opNames[op.Kind]
		if !ok {
			return errorf("op %d has unknown kind %d", i, op.Kind)
		}
		what := opLabel(i, name)
		if op.Activation > ActReLU6 {
			return errorf("%s has unknown activation %d", what, op.Activation)
		}
		if op.reserved != 0 {
			return errorf("%s has reserved field %d, want 0", what, op.reserved)
		}
		// Op i may read values 0..i (value i+1 is its own output).
		if op.Input[0] < 0 || int(op.Input[0]) > i {
			return errorf("%s reads value %d, which is not defined before it", what, op.Input[0])
		}
		if op.Kind == OpAdd {
			if op.Input[1] < 0 || int(op.Input[1]) > i {
				return errorf("%s reads value %d, which is not defined before it", what, op.Input[1])
			}
		} else if op.Input[1] != -1 {
			return errorf("%s has a second input %d, want -1", what, op.Input[1])
		}
		hasWeights := op.Kind == OpConv || op.Kind == OpDense
		for _, ref := range []struct {
			field string
			idx   int32
		}{{"weight", op.Weight}, {"bias", op.Bias}} {
			switch {
			case ref.idx == -1:
				if ref.field == "weight" && hasWeights {
					return errorf("%s has no weight tensor", what)
				}
			case !hasWeights:
				return errorf("%s has a %s tensor, but %s takes none", what, ref.field, name)
			case ref.idx < 0 || int(ref.idx) >= len(f.Tensors):
				return errorf("%s %s tensor index %d is out of range (%d tensors)", what, ref.field, ref.idx, len(f.Tensors))
			default:
				used[ref.idx] = true
			}
		}
		windowed := op.Kind == OpConv || op.Kind == OpAvgPool
		if op.Kind == OpConv {
			if op.Groups == 0 {
				return errorf("%s has 0 groups, want ≥ 1", what)
			}
		} else if op.Groups != 0 {
			return errorf("%s sets groups, which only conv uses", what)
		}
		if op.Kind != OpAvgPool && op.Window != [2]uint32{} {
			return errorf("%s sets a window, which only avgpool uses", what)
		}
		if !windowed && (op.Stride != [2]uint32{} || op.Pad != [4]uint32{}) {
			return errorf("%s sets stride or padding, which only conv and avgpool use", what)
		}
		if op.Kind != OpAffine && (op.Scale != 0 || op.Shift != 0) {
			return errorf("%s sets scale or shift, which only affine uses", what)
		}
		if op.Kind == OpAffine && (!isFinite(float64(op.Scale)) || !isFinite(float64(op.Shift))) {
			return errorf("%s has non-finite scale %v or shift %v", what, op.Scale, op.Shift)
		}
		if (op.Kind == OpAffine || op.Kind == OpSoftmax) && op.Activation != ActLinear {
			return errorf("%s takes no activation", what)
		}
	}
	for i, u := range used {
		if !u {
			return errorf("tensor %q is not used by any op", f.Tensors[i].Name)
		}
	}
	return nil
}

// Graph dequantizes the weights and builds the engine graph, checking
// every shape. The result does not alias f.
func (f *File) Graph() (*engine.Graph, error) {
	info, err := f.Info()
	if err != nil {
		return nil, err
	}
	g := &engine.Graph{Input: engine.Shape{H: info.InputShape[0], W: info.InputShape[1], C: info.InputShape[2]}}
	g.Nodes = make([]engine.Node, len(f.Ops))
	// All weights go into one allocation: in a browser, where loading runs
	// at start-up on one thread, a hundred growing allocations cost several
	// collector cycles.
	var total int
	used := make([]bool, len(f.Tensors))
	for _, op := range f.Ops {
		for _, idx := range []int32{op.Weight, op.Bias} {
			if idx >= 0 && int(idx) < len(used) && !used[idx] {
				used[idx] = true
				total += f.Tensors[idx].Len()
			}
		}
	}
	slab := make([]float32, total)
	floats := make(map[int32][]float32)
	tensor := func(idx int32) []float32 {
		if idx < 0 {
			return nil
		}
		if v, ok := floats[idx]; ok {
			return v
		}
		n := f.Tensors[idx].Len()
		v := slab[:n:n]
		slab = slab[n:]
		f.Tensors[idx].floatsInto(v)
		floats[idx] = v
		return v
	}
	for i := range f.Ops {
		op := &f.Ops[i]
		what := opLabel(i, opNames[op.Kind])
		n := &g.Nodes[i]
		n.Kind = engine.Kind(op.Kind)
		n.Act = engine.Activation(op.Activation)
		n.In = [2]int{int(op.Input[0]), int(op.Input[1])}
		n.Groups = int(op.Groups)
		n.KH, n.KW = int(op.Window[0]), int(op.Window[1])
		n.StrideH, n.StrideW = int(op.Stride[0]), int(op.Stride[1])
		n.Pad = [4]int{int(op.Pad[0]), int(op.Pad[1]), int(op.Pad[2]), int(op.Pad[3])}
		n.Scale, n.Shift = op.Scale, op.Shift
		if op.Weight >= 0 {
			w := &f.Tensors[op.Weight]
			switch {
			case op.Kind == OpConv && len(w.Dims) == 4:
				n.WShape = [4]int{w.Dims[0], w.Dims[1], w.Dims[2], w.Dims[3]}
			case op.Kind == OpDense && len(w.Dims) == 2:
				n.WShape = [4]int{w.Dims[0], w.Dims[1], 1, 1}
			default:
				return nil, errorf("%s weight tensor %q has rank %d", what, w.Name, len(w.Dims))
			}
			n.Weights = tensor(op.Weight)
		}
		if op.Bias >= 0 {
			if b := &f.Tensors[op.Bias]; len(b.Dims) != 1 {
				return nil, errorf("%s bias tensor %q has rank %d, want 1", what, b.Name, len(b.Dims))
			}
			n.Bias = tensor(op.Bias)
		}
	}
	shapes, err := g.Shapes()
	if err != nil {
		return nil, errfmt.Errorf("%w: %w", ErrFormat, err)
	}
	if out := shapes[len(shapes)-1]; out.Size() != len(info.Classes) {
		return nil, errorf("the model outputs %d values but names %d classes", out.Size(), len(info.Classes))
	}
	return g, nil
}

// Load reads a model file and builds its graph: the whole loader.
func Load(b []byte) (*File, *engine.Graph, error) {
	f, err := Read(b)
	if err != nil {
		return nil, nil, err
	}
	g, err := f.Graph()
	if err != nil {
		return nil, nil, err
	}
	return f, g, nil
}
