package engine

// Interpreter runs a Plan in its own arena. It is not safe for concurrent
// use; make one per goroutine (they share the Plan and its weights).
type Interpreter struct {
	plan    *Plan
	arena   []float32
	values  [][]float32
	scratch [][]float32
}

// NewInterpreter allocates an arena for p. This is the only allocation;
// Run allocates nothing.
func (p *Plan) NewInterpreter() *Interpreter {
	it := &Interpreter{
		plan:    p,
		arena:   make([]float32, p.size),
		values:  make([][]float32, len(p.shapes)),
		scratch: make([][]float32, len(p.steps)),
	}
	for v, s := range p.shapes {
		off := p.offsets[v]
		it.values[v] = it.arena[off : off+s.Size() : off+s.Size()]
	}
	for i, st := range p.steps {
		if st.scratchOff >= 0 {
			it.scratch[i] = it.arena[st.scratchOff : st.scratchOff+st.scratchLen]
		}
	}
	return it
}

// Input is the graph's input buffer (H×W×C, NHWC). Fill it, then Run.
func (it *Interpreter) Input() []float32 { return it.values[0] }

// Output is the graph's output buffer, valid until the next Run.
func (it *Interpreter) Output() []float32 { return it.values[len(it.values)-1] }

// Value returns value v's buffer; intermediate values are only meaningful
// until the arena space is reused by a later op.
func (it *Interpreter) Value(v int) []float32 { return it.values[v] }

// Plan returns the plan this interpreter runs.
func (it *Interpreter) Plan() *Plan { return it.plan }

// Run executes every op and returns the output buffer.
func (it *Interpreter) Run() []float32 {
	k := it.plan.kernels
	for i := range it.plan.steps {
		st := &it.plan.steps[i]
		n := st.node
		out := it.values[i+1]
		in := it.values[n.In[0]]
		switch n.Kind {
		case Conv:
			cin, cout := it.plan.shapes[n.In[0]].C, n.WShape[3]
			switch st.path {
			case pathPointwise:
				k.Gemm(out, in, n.Weights, n.Bias, st.conv.InH*st.conv.InW, cin, cout, st.lo, st.hi)
			case pathDepthwise:
				k.Depthwise(out, in, n.Weights, n.Bias, st.conv, cin)
			default:
				k.Conv(out, in, n.Weights, n.Bias, it.scratch[i], st.conv, cin, cout)
			}
		case Add:
			k.Add(out, in, it.values[n.In[1]], st.lo, st.hi)
		case Affine:
			k.Affine(out, in, n.Scale, n.Shift)
		case AvgPool:
			k.AvgPool(out, in, st.conv, it.plan.shapes[n.In[0]].C)
		case Dense:
			k.Gemm(out, in, n.Weights, n.Bias, 1, n.WShape[0], n.WShape[1], st.lo, st.hi)
		case Softmax:
			k.Softmax(out, in)
		}
	}
	return it.Output()
}
