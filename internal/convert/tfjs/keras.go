package tfjs

import (
	"encoding/json"
	"fmt"

	"github.com/nsfw-go/nsfw/internal/engine"
	"github.com/nsfw-go/nsfw/internal/format"
)

type kerasTopology struct {
	ModelConfig struct {
		ClassName string `json:"class_name"`
		Config    struct {
			Layers       []kerasLayer `json:"layers"`
			InputLayers  [][]any      `json:"input_layers"`
			OutputLayers [][]any      `json:"output_layers"`
		} `json:"config"`
	} `json:"model_config"`
}

type kerasLayer struct {
	Name         string      `json:"name"`
	ClassName    string      `json:"class_name"`
	Config       kerasConfig `json:"config"`
	InboundNodes [][][]any   `json:"inbound_nodes"`
}

type kerasConfig struct {
	BatchInputShape []*int          `json:"batch_input_shape"`
	Padding         json.RawMessage `json:"padding"`
	Strides         []int           `json:"strides"`
	KernelSize      []int           `json:"kernel_size"`
	PoolSize        []int           `json:"pool_size"`
	DilationRate    []int           `json:"dilation_rate"`
	DepthMultiplier int             `json:"depth_multiplier"`
	DataFormat      string          `json:"data_format"`
	UseBias         bool            `json:"use_bias"`
	Activation      string          `json:"activation"`
	Epsilon         float64         `json:"epsilon"`
	Axis            any             `json:"axis"`
	Center          *bool           `json:"center"`
	Scale           *bool           `json:"scale"`
	MaxValue        *float64        `json:"max_value"`
	Threshold       float64         `json:"threshold"`
	NegativeSlope   float64         `json:"negative_slope"`
	Units           int             `json:"units"`
}

// ref is what a Keras layer's output is, in terms of our graph: a value,
// possibly with zero padding still to be applied by the next conv.
type ref struct {
	value int
	pad   [4]int // top, left, bottom, right
	op    int    // index of the op that produced value, -1 for the input
	src   string // the source node it stands for (graph models)
}

// ConvertLayersModel converts a Keras layers model (nsfwjs MobileNetV2):
// ZeroPadding2D is merged into the next conv's padding, BatchNormalization
// is folded into the conv before it, ReLU becomes the producing op's
// activation, Dropout and Flatten vanish.
func ConvertLayersModel(bnd *Bundle) (*format.File, error) {
	var top kerasTopology
	if err := json.Unmarshal(bnd.Model.ModelTopology, &top); err != nil {
		return nil, fmt.Errorf("keras topology: %w", err)
	}
	layers := top.ModelConfig.Config.Layers
	if len(layers) == 0 {
		return nil, fmt.Errorf("keras topology has no layers")
	}
	consumers := map[string]int{}
	for _, l := range layers {
		for _, in := range inboundNames(l) {
			consumers[in]++
		}
	}
	used := map[string]bool{}
	weight := func(name string) (*RawWeight, error) {
		w, ok := bnd.Weights[name]
		if !ok {
			return nil, fmt.Errorf("weight %s is missing", name)
		}
		if used[name] {
			return nil, fmt.Errorf("weight %s used twice", name)
		}
		used[name] = true
		return w, nil
	}
	optWeight := func(name string) (*RawWeight, error) {
		if _, ok := bnd.Weights[name]; !ok {
			return nil, nil
		}
		return weight(name)
	}

	var b *builder
	refs := map[string]ref{}
	lastLayer := ""
	for _, l := range layers {
		c := &l.Config
		if c.DataFormat != "" && c.DataFormat != "channels_last" {
			return nil, fmt.Errorf("%s: data_format %s", l.Name, c.DataFormat)
		}
		for _, d := range c.DilationRate {
			if d != 1 {
				return nil, fmt.Errorf("%s: dilation %v is not supported", l.Name, c.DilationRate)
			}
		}
		ins := inboundNames(l)
		var in []ref
		for _, name := range ins {
			r, ok := refs[name]
			if !ok {
				return nil, fmt.Errorf("%s: input %s is not defined before it", l.Name, name)
			}
			in = append(in, r)
		}
		if l.ClassName != "InputLayer" && len(in) == 0 {
			return nil, fmt.Errorf("%s: no inputs", l.Name)
		}
		if l.ClassName != "Conv2D" && l.ClassName != "DepthwiseConv2D" && l.ClassName != "ZeroPadding2D" {
			for _, r := range in {
				if r.pad != [4]int{} {
					return nil, fmt.Errorf("%s (%s) reads a zero-padded input; only convs can absorb padding", l.Name, l.ClassName)
				}
			}
		}
		var out ref
		var err error
		switch l.ClassName {
		case "InputLayer":
			s := c.BatchInputShape
			if b != nil || len(s) != 4 || s[1] == nil || s[2] == nil || s[3] == nil || *s[3] != 3 {
				return nil, fmt.Errorf("%s: unsupported input %v", l.Name, s)
			}
			b = newBuilder(engine.Shape{H: *s[1], W: *s[2], C: *s[3]})
			out = ref{value: 0, op: -1}
		case "ZeroPadding2D":
			var p [2][2]int
			if err := json.Unmarshal(c.Padding, &p); err != nil {
				return nil, fmt.Errorf("%s: padding %s", l.Name, c.Padding)
			}
			out = in[0]
			out.pad[0] += p[0][0]
			out.pad[2] += p[0][1]
			out.pad[1] += p[1][0]
			out.pad[3] += p[1][1]
		case "Conv2D", "DepthwiseConv2D":
			out, err = kerasConv(b, l, in[0], weight, optWeight)
		case "BatchNormalization":
			out = in[0]
			pc, ok := b.convs[out.op]
			if out.op < 0 || !ok || consumers[ins[0]] != 1 || b.ops[out.op].Activation != format.ActLinear || pc.folded {
				return nil, fmt.Errorf("%s: BatchNormalization must directly follow a conv with no other reader", l.Name)
			}
			if ax, ok := c.Axis.(float64); !ok || (ax != -1 && ax != 3) {
				return nil, fmt.Errorf("%s: batchnorm axis %v", l.Name, c.Axis)
			}
			var gamma, beta, mean, variance *RawWeight
			if c.Scale == nil || *c.Scale {
				if gamma, err = weight(l.Name + "/gamma"); err != nil {
					return nil, err
				}
			}
			if c.Center == nil || *c.Center {
				if beta, err = weight(l.Name + "/beta"); err != nil {
					return nil, err
				}
			}
			if mean, err = weight(l.Name + "/moving_mean"); err != nil {
				return nil, err
			}
			if variance, err = weight(l.Name + "/moving_variance"); err != nil {
				return nil, err
			}
			err = pc.foldBatchNorm(gamma, beta, mean, variance, c.Epsilon)
		case "ReLU":
			out = in[0]
			act := uint32(format.ActReLU)
			switch {
			case c.Threshold != 0 || c.NegativeSlope != 0:
				return nil, fmt.Errorf("%s: ReLU threshold/negative_slope are not supported", l.Name)
			case c.MaxValue != nil && *c.MaxValue == 6:
				act = format.ActReLU6
			case c.MaxValue != nil:
				return nil, fmt.Errorf("%s: ReLU max_value %v is not supported", l.Name, *c.MaxValue)
			}
			err = fuseActivation(b, l.Name, out, consumers[ins[0]], act)
		case "Add":
			if len(in) != 2 {
				return nil, fmt.Errorf("%s: Add of %d inputs", l.Name, len(in))
			}
			var v int
			v, err = b.add(format.Op{Kind: format.OpAdd, Input: [2]int32{int32(in[0].value), int32(in[1].value)}, Weight: -1, Bias: -1},
				engine.Node{Kind: engine.Add, In: [2]int{in[0].value, in[1].value}})
			out = ref{value: v, op: len(b.ops) - 1}
		case "AveragePooling2D":
			var pad string
			if json.Unmarshal(c.Padding, &pad) != nil || pad != "valid" || len(c.PoolSize) != 2 || len(c.Strides) != 2 {
				return nil, fmt.Errorf("%s: unsupported pooling %s %v %v", l.Name, c.Padding, c.PoolSize, c.Strides)
			}
			var v int
			v, err = b.add(format.Op{Kind: format.OpAvgPool, Input: [2]int32{int32(in[0].value), -1}, Weight: -1, Bias: -1,
				Window: [2]uint32{uint32(c.PoolSize[0]), uint32(c.PoolSize[1])}, Stride: [2]uint32{uint32(c.Strides[0]), uint32(c.Strides[1])}},
				engine.Node{Kind: engine.AvgPool, In: [2]int{in[0].value, -1}, KH: c.PoolSize[0], KW: c.PoolSize[1], StrideH: c.Strides[0], StrideW: c.Strides[1]})
			out = ref{value: v, op: len(b.ops) - 1}
		case "Flatten", "Dropout":
			// NHWC flattening is the identity on our row-major buffers, and
			// dropout is the identity at inference.
			out = in[0]
		case "Dense":
			out, err = kerasDense(b, l, in[0], weight, optWeight)
		default:
			return nil, fmt.Errorf("%s: unsupported layer type %s", l.Name, l.ClassName)
		}
		if err != nil {
			return nil, err
		}
		refs[l.Name] = out
		lastLayer = l.Name
	}
	outs := top.ModelConfig.Config.OutputLayers
	if len(outs) != 1 || len(outs[0]) == 0 || outs[0][0] != lastLayer {
		return nil, fmt.Errorf("the output layer must be the last layer (%s), got %v", lastLayer, outs)
	}
	if refs[lastLayer].value != len(b.shapes)-1 {
		return nil, fmt.Errorf("the output layer %s is not the last op's output", lastLayer)
	}
	for _, name := range bnd.Order {
		if !used[name] {
			return nil, fmt.Errorf("weight %s is not used by the converted graph", name)
		}
	}
	return b.file()
}

func inboundNames(l kerasLayer) []string {
	var names []string
	for _, node := range l.InboundNodes {
		for _, in := range node {
			if len(in) > 0 {
				if s, ok := in[0].(string); ok {
					names = append(names, s)
				}
			}
		}
	}
	return names
}

func kerasConv(b *builder, l kerasLayer, in ref, weight, optWeight func(string) (*RawWeight, error)) (ref, error) {
	c := &l.Config
	if len(c.KernelSize) != 2 || len(c.Strides) != 2 {
		return ref{}, fmt.Errorf("%s: kernel %v strides %v", l.Name, c.KernelSize, c.Strides)
	}
	if c.Activation != "linear" && c.Activation != "" {
		return ref{}, fmt.Errorf("%s: conv activation %s is not supported", l.Name, c.Activation)
	}
	cin := b.shapes[in.value].C
	var kernel, bias *RawWeight
	var err error
	var dims [4]int
	groups := 1
	if l.ClassName == "DepthwiseConv2D" {
		if c.DepthMultiplier != 1 {
			return ref{}, fmt.Errorf("%s: depth_multiplier %d is not supported", l.Name, c.DepthMultiplier)
		}
		if kernel, err = weight(l.Name + "/depthwise_kernel"); err != nil {
			return ref{}, err
		}
		// [KH, KW, C, 1] and [KH, KW, 1, C] are the same bytes.
		dims = [4]int{c.KernelSize[0], c.KernelSize[1], 1, cin}
		groups = cin
	} else {
		if kernel, err = weight(l.Name + "/kernel"); err != nil {
			return ref{}, err
		}
		s := kernel.Spec.Shape
		if len(s) != 4 {
			return ref{}, fmt.Errorf("%s: kernel shape %v", l.Name, s)
		}
		dims = [4]int{s[0], s[1], s[2], s[3]}
	}
	if c.UseBias {
		if bias, err = weight(l.Name + "/bias"); err != nil {
			return ref{}, err
		}
	}
	pc, err := newPendingConv(l.Name, kernel, dims, bias)
	if err != nil {
		return ref{}, err
	}
	pc.biasName = l.Name + "/bias"
	var padding string
	if err := json.Unmarshal(c.Padding, &padding); err != nil {
		return ref{}, fmt.Errorf("%s: padding %s", l.Name, c.Padding)
	}
	pad := in.pad
	switch padding {
	case "valid":
	case "same":
		if pad != [4]int{} {
			return ref{}, fmt.Errorf("%s: 'same' padding after ZeroPadding2D", l.Name)
		}
		s := b.shapes[in.value]
		pad[0], pad[2] = samePadding(s.H, dims[0], c.Strides[0])
		pad[1], pad[3] = samePadding(s.W, dims[1], c.Strides[1])
	default:
		return ref{}, fmt.Errorf("%s: padding %q", l.Name, padding)
	}
	v, err := b.conv(in.value, pc, groups, [2]int{c.Strides[0], c.Strides[1]}, pad, format.ActLinear)
	return ref{value: v, op: len(b.ops) - 1}, err
}

func kerasDense(b *builder, l kerasLayer, in ref, weight, optWeight func(string) (*RawWeight, error)) (ref, error) {
	c := &l.Config
	kernel, err := weight(l.Name + "/kernel")
	if err != nil {
		return ref{}, err
	}
	var bias *RawWeight
	if c.UseBias {
		if bias, err = weight(l.Name + "/bias"); err != nil {
			return ref{}, err
		}
	}
	act, softmax := uint32(format.ActLinear), false
	switch c.Activation {
	case "linear", "":
	case "relu":
		act = format.ActReLU
	case "softmax":
		softmax = true
	default:
		return ref{}, fmt.Errorf("%s: dense activation %s is not supported", l.Name, c.Activation)
	}
	v, err := b.dense(in.value, kernel, bias, act)
	if err != nil {
		return ref{}, fmt.Errorf("%s: %w", l.Name, err)
	}
	if softmax {
		v, err = b.softmax(v)
	}
	return ref{value: v, op: len(b.ops) - 1}, err
}

// fuseActivation sets act on the op producing r, which must be linear and
// read by nothing but the activation layer.
func fuseActivation(b *builder, name string, r ref, readers int, act uint32) error {
	if r.op < 0 || readers != 1 {
		return fmt.Errorf("%s: activation must follow an op with no other reader", name)
	}
	op := &b.ops[r.op]
	switch op.Kind {
	case format.OpConv, format.OpAdd, format.OpDense, format.OpAvgPool:
	default:
		return fmt.Errorf("%s: cannot fuse an activation into op kind %d", name, op.Kind)
	}
	if op.Activation != format.ActLinear {
		return fmt.Errorf("%s: the op before already has an activation", name)
	}
	op.Activation = act
	return nil
}

func (b *builder) dense(in int, kernel, bias *RawWeight, act uint32) (int, error) {
	s := kernel.Spec.Shape
	if len(s) != 2 {
		return 0, fmt.Errorf("dense kernel shape %v", s)
	}
	n := engine.Node{Kind: engine.Dense, Act: engine.Activation(act), In: [2]int{in, -1}, Weights: make([]float32, kernel.Len()), WShape: [4]int{s[0], s[1], 1, 1}}
	if bias != nil {
		n.Bias = make([]float32, bias.Len())
	}
	v, err := b.add(format.Op{Kind: format.OpDense, Activation: act, Input: [2]int32{int32(in), -1}, Weight: -1, Bias: -1}, n)
	if err != nil {
		return 0, err
	}
	idx := len(b.ops) - 1
	b.denses[idx] = &pendingDense{kernel: kernel, bias: bias}
	b.order = append(b.order, idx)
	return v, nil
}

func (b *builder) softmax(in int) (int, error) {
	return b.add(format.Op{Kind: format.OpSoftmax, Input: [2]int32{int32(in), -1}, Weight: -1, Bias: -1},
		engine.Node{Kind: engine.Softmax, In: [2]int{in, -1}})
}

// file assembles the converted graph; metadata is added by the caller.
func (b *builder) file() (*format.File, error) {
	tensors, ops, err := b.finish()
	if err != nil {
		return nil, err
	}
	return &format.File{Alignment: 32, Tensors: tensors, Ops: ops}, nil
}
