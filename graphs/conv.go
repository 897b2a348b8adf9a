package graphs

import (
	"fmt"
	"slices"
)

// ConvOpts are the hyper-parameters of a 2-D convolution. Zero strides and
// dilations mean 1. Pads are [top, left, bottom, right], as ONNX orders them.
type ConvOpts struct {
	Strides   [2]int
	Pads      [4]int
	Dilations [2]int
}

func (o ConvOpts) norm() ConvOpts {
	for i := range 2 {
		if o.Strides[i] == 0 {
			o.Strides[i] = 1
		}
		if o.Dilations[i] == 0 {
			o.Dilations[i] = 1
		}
	}
	return o
}

// convParams fix one convolution C: x [N,Cin,H,W] ⊛ w [Cout,Cin,kh,kw] →
// y [N,Cout,Ho,Wo]. The three convolution ops (Conv, ConvGradInput,
// ConvGradWeight) of one forward convolution share them.
type convParams struct {
	ConvOpts
	in     [2]int // H, W
	out    [2]int // Ho, Wo
	kernel [2]int // kh, kw
	cin    int
	cout   int
}

// xShape and yShape take the batch dimension n of the operand at hand
// (Batch, or a static size).
func (p *convParams) xShape(n int) []int { return []int{n, p.cin, p.in[0], p.in[1]} }
func (p *convParams) yShape(n int) []int { return []int{n, p.cout, p.out[0], p.out[1]} }
func (p *convParams) wShape() []int      { return []int{p.cout, p.cin, p.kernel[0], p.kernel[1]} }

// outputPadding is the ConvTranspose output_padding that recovers H from Ho.
func (p *convParams) outputPadding() [2]int {
	var op [2]int
	for i := range 2 {
		span := p.Dilations[i]*(p.kernel[i]-1) + 1
		op[i] = (p.in[i] + p.Pads[i] + p.Pads[i+2] - span) % p.Strides[i]
	}
	return op
}

func convOut(op string, in, k int, o ConvOpts, axis int) int {
	span := o.Dilations[axis]*(k-1) + 1
	n := in + o.Pads[axis] + o.Pads[axis+2] - span
	if n < 0 {
		panic(fmt.Sprintf("graphs: %s: kernel %d (dilation %d) larger than padded input %d",
			op, k, o.Dilations[axis], in+o.Pads[axis]+o.Pads[axis+2]))
	}
	return n/o.Strides[axis] + 1
}

// Conv returns the 2-D convolution of x [N,Cin,H,W] with w [Cout,Cin,kh,kw],
// plus the bias b [Cout] when b is not nil. x's batch may be dynamic; every
// other dimension must be static.
func (g *Graph) Conv(x, w, b *Value, o ConvOpts) *Value {
	o = o.norm()
	if len(x.Shape) != 4 || len(w.Shape) != 4 || x.Shape[1] != w.Shape[1] ||
		slices.Contains(x.Shape[1:], Batch) || slices.Contains(w.Shape, Batch) {
		panic(fmt.Sprintf("graphs: Conv: input %s and weight %s", fmtShape(x.Shape), fmtShape(w.Shape)))
	}
	if b != nil && (len(b.Shape) != 1 || b.Shape[0] != w.Shape[0]) {
		panic(fmt.Sprintf("graphs: Conv: bias %s for weight %s", fmtShape(b.Shape), fmtShape(w.Shape)))
	}
	p := &convParams{ConvOpts: o, in: [2]int{x.Shape[2], x.Shape[3]},
		kernel: [2]int{w.Shape[2], w.Shape[3]}, cin: w.Shape[1], cout: w.Shape[0]}
	p.out = [2]int{convOut("Conv", p.in[0], p.kernel[0], o, 0), convOut("Conv", p.in[1], p.kernel[1], o, 1)}
	y := g.conv(p, x, w)
	if b != nil {
		y.node.Inputs = append(y.node.Inputs, b)
	}
	return y
}

// ConvTranspose returns the transposed convolution of x [N,C1,h,w] with
// w [C1,C2,kh,kw], as ONNX defines it with output_padding: the adjoint of a
// convolution from C2 to C1 channels.
func (g *Graph) ConvTranspose(x, w *Value, o ConvOpts, outputPadding [2]int) *Value {
	o = o.norm()
	if len(x.Shape) != 4 || len(w.Shape) != 4 || x.Shape[1] != w.Shape[0] ||
		slices.Contains(x.Shape[1:], Batch) || slices.Contains(w.Shape, Batch) {
		panic(fmt.Sprintf("graphs: ConvTranspose: input %s and weight %s", fmtShape(x.Shape), fmtShape(w.Shape)))
	}
	p := &convParams{ConvOpts: o, out: [2]int{x.Shape[2], x.Shape[3]},
		kernel: [2]int{w.Shape[2], w.Shape[3]}, cin: w.Shape[1], cout: w.Shape[0]}
	for i := range 2 {
		if outputPadding[i] < 0 || outputPadding[i] >= max(o.Strides[i], o.Dilations[i]) {
			panic(fmt.Sprintf("graphs: ConvTranspose: output padding %v with strides %v", outputPadding, o.Strides))
		}
		p.in[i] = o.Strides[i]*(p.out[i]-1) + outputPadding[i] + o.Dilations[i]*(p.kernel[i]-1) + 1 -
			o.Pads[i] - o.Pads[i+2]
		if p.in[i] <= 0 || convOut("ConvTranspose", p.in[i], p.kernel[i], o, i) != p.out[i] {
			panic(fmt.Sprintf("graphs: ConvTranspose: input %s, weight %s, opts %+v give no valid output",
				fmtShape(x.Shape), fmtShape(w.Shape), o))
		}
	}
	return g.convGradInput(p, x, w)
}

// The three convolution ops. Their gradient rules close over the set (see
// the package doc); each checks its operands against the shared params.

func (g *Graph) conv(p *convParams, x, w *Value) *Value {
	checkConvOperand("Conv", x, p.xShape(Batch))
	checkConvOperand("Conv", w, p.wShape())
	y := g.add("Conv", nil, p.yShape(x.Shape[0]), x.DType, x, w)
	y.node.conv = p
	return y
}

func (g *Graph) convGradInput(p *convParams, u, w *Value) *Value {
	checkConvOperand("ConvGradInput", u, p.yShape(Batch))
	checkConvOperand("ConvGradInput", w, p.wShape())
	x := g.add("ConvGradInput", nil, p.xShape(u.Shape[0]), u.DType, u, w)
	x.node.conv = p
	return x
}

func (g *Graph) convGradWeight(p *convParams, x, u *Value) *Value {
	checkConvOperand("ConvGradWeight", x, p.xShape(Batch))
	checkConvOperand("ConvGradWeight", u, p.yShape(Batch))
	if x.Shape[0] != u.Shape[0] {
		panic(fmt.Sprintf("graphs: ConvGradWeight: batches of %s and %s differ", fmtShape(x.Shape), fmtShape(u.Shape)))
	}
	w := g.add("ConvGradWeight", nil, p.wShape(), x.DType, x, u)
	w.node.conv = p
	return w
}

func checkConvOperand(op string, v *Value, want []int) {
	ok := len(v.Shape) == len(want)
	for i := 0; ok && i < len(want); i++ {
		// Any batch, dynamic or static, fits.
		ok = v.Shape[i] == want[i] || i == 0
	}
	if !ok {
		panic(fmt.Sprintf("graphs: %s: operand %s has shape %s, want %s", op, v.name,
			fmtShape(v.Shape), fmtShape(want)))
	}
}

func init() {
	rules["Conv"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		p, x, w := n.conv, n.Inputs[0], n.Inputs[1]
		out := pick(need[:2], func() *Value { return g.convGradInput(p, gy, w) },
			func() *Value { return g.convGradWeight(p, x, gy) })
		if len(n.Inputs) == 3 {
			var gb *Value
			if need[2] {
				gb = g.ReduceSum(gy, []int{0, 2, 3}, false)
			}
			out = append(out, gb)
		}
		return out
	}
	rules["ConvGradInput"] = func(g *Graph, n *Node, gx *Value, need []bool) []*Value {
		p, u, w := n.conv, n.Inputs[0], n.Inputs[1]
		return pick(need, func() *Value { return g.conv(p, gx, w) },
			func() *Value { return g.convGradWeight(p, gx, u) })
	}
	rules["ConvGradWeight"] = func(g *Graph, n *Node, gw *Value, need []bool) []*Value {
		p, x, u := n.conv, n.Inputs[0], n.Inputs[1]
		return pick(need, func() *Value { return g.convGradInput(p, u, gw) },
			func() *Value { return g.conv(p, x, gw) })
	}
}
