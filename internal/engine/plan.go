package engine

import (
	"github.com/nsfw-go/nsfw/internal/kernels"
)

// align is the arena offset granularity in float32s (64 bytes), so every
// buffer starts on a cache line and on a SIMD-friendly boundary.
const align = 16

// Plan is a graph validated and laid out in one arena. It is immutable and
// may be shared by any number of Interpreters.
type Plan struct {
	graph   *Graph
	kernels *kernels.Set
	shapes  []Shape
	steps   []step
	// offsets[v] is the arena offset of value v, in float32s.
	offsets []int
	size    int
}

// step is a node with everything Run needs precomputed.
type step struct {
	node       *Node
	conv       kernels.ConvParams
	lo, hi     float32
	scratchOff int
	scratchLen int
	path       convPath
}

type convPath uint8

const (
	pathNone convPath = iota
	pathPointwise
	pathDepthwise
	pathIm2col
)

// buffer is one arena allocation with the node-index interval it is live in.
type buffer struct {
	size, first, last int
	offset            int
	value             int // value id, or -1 for scratch
	step              int
}

// NewPlan validates g and plans its memory for kernel set k.
func NewPlan(g *Graph, k *kernels.Set) (*Plan, error) {
	shapes, err := g.Shapes()
	if err != nil {
		return nil, err
	}
	p := &Plan{graph: g, kernels: k, shapes: shapes, steps: make([]step, len(g.Nodes))}
	var bufs []buffer
	nv := len(shapes)
	lastUse := make([]int, nv)
	for v := range lastUse {
		lastUse[v] = max(v-1, 0) // a value nobody reads dies where it is made
	}
	for i := range g.Nodes {
		n := &g.Nodes[i]
		for _, v := range n.In {
			if v >= 0 {
				lastUse[v] = i
			}
		}
	}
	lastUse[nv-1] = len(g.Nodes) // the output outlives the run
	for v := 0; v < nv; v++ {
		bufs = append(bufs, buffer{size: shapes[v].Size(), first: max(v-1, 0), last: lastUse[v], value: v, step: -1})
	}
	for i := range g.Nodes {
		st := &p.steps[i]
		st.node = &g.Nodes[i]
		st.lo, st.hi = clampOf(st.node.Act)
		st.scratchOff = -1
		if st.node.Kind != Conv && st.node.Kind != AvgPool {
			continue
		}
		in, out := shapes[st.node.In[0]], shapes[i+1]
		kh, kw := st.node.KH, st.node.KW
		if st.node.Kind == Conv {
			kh, kw = st.node.WShape[0], st.node.WShape[1]
		}
		st.conv = kernels.ConvParams{
			InH: in.H, InW: in.W, OutH: out.H, OutW: out.W, KH: kh, KW: kw,
			StrideH: st.node.StrideH, StrideW: st.node.StrideW,
			PadT: st.node.Pad[0], PadL: st.node.Pad[1], Lo: st.lo, Hi: st.hi,
		}
		if st.node.Kind != Conv {
			continue
		}
		switch {
		case st.node.Groups > 1:
			st.path = pathDepthwise
		case kh == 1 && kw == 1 && st.conv.StrideH == 1 && st.conv.StrideW == 1 && st.node.Pad == [4]int{}:
			st.path = pathPointwise
		default:
			st.path = pathIm2col
			if n := k.ConvScratch(st.conv, in.C); n > 0 {
				st.scratchLen = n
				bufs = append(bufs, buffer{size: n, first: i, last: i, value: -1, step: i})
			}
		}
	}
	p.size = placeGreedy(bufs)
	p.offsets = make([]int, nv)
	for _, b := range bufs {
		if b.value >= 0 {
			p.offsets[b.value] = b.offset
		} else {
			p.steps[b.step].scratchOff = b.offset
		}
	}
	return p, nil
}

func clampOf(a Activation) (lo, hi float32) {
	switch a {
	case ReLU:
		return kernels.ReLULo, kernels.ReLUHi
	case ReLU6:
		return kernels.ReLU6Lo, kernels.ReLU6Hi
	}
	return kernels.LinearLo, kernels.LinearHi
}

// placeGreedy assigns offsets, largest buffers first, each at the lowest
// offset that does not collide with a placed buffer live at the same time.
// It returns the arena size in float32s.
func placeGreedy(bufs []buffer) int {
	order := make([]int, len(bufs))
	for i := range order {
		order[i] = i
	}
	sortInts(order, func(a, b int) bool { return bufs[a].size > bufs[b].size })
	var placed []int
	size := 0
	for _, bi := range order {
		b := &bufs[bi]
		var live []int
		for _, pi := range placed {
			q := &bufs[pi]
			if b.first <= q.last && q.first <= b.last {
				live = append(live, pi)
			}
		}
		sortInts(live, func(x, y int) bool { return bufs[x].offset < bufs[y].offset })
		off := 0
		for _, pi := range live {
			q := &bufs[pi]
			if off+b.size <= q.offset {
				break
			}
			off = max(off, roundUp(q.offset+q.size))
		}
		b.offset = off
		size = max(size, off+b.size)
		placed = append(placed, bi)
	}
	return roundUp(size)
}

func roundUp(n int) int { return (n + align - 1) / align * align }

// sortInts is a stable insertion sort. Plans have a few hundred buffers at
// most, and package slices' generic sorts add tens of KB to the wasm build.
func sortInts(s []int, less func(a, b int) bool) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && less(s[j], s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// ArenaBytes is the size of one Interpreter's arena.
func (p *Plan) ArenaBytes() int { return p.size * 4 }

// Shapes returns the shape of every value (0 is the input).
func (p *Plan) Shapes() []Shape { return p.shapes }

// Graph returns the planned graph.
func (p *Plan) Graph() *Graph { return p.graph }

// Kernels returns the kernel set the plan runs with.
func (p *Plan) Kernels() *kernels.Set { return p.kernels }
