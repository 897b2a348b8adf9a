package graphs

import (
	"fmt"
	"slices"
)

func normAxes(op string, axes []int, rank int) []int {
	out := make([]int, len(axes))
	for i, a := range axes {
		if a < 0 {
			a += rank
		}
		if a < 0 || a >= rank {
			panic(fmt.Sprintf("graphs: %s: axis %d out of range for rank %d", op, axes[i], rank))
		}
		out[i] = a
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func reducedShape(shape, axes []int, keep bool) []int {
	var out []int
	for i, d := range shape {
		switch {
		case !slices.Contains(axes, i):
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	return out
}

// ReduceSum sums x over axes (all axes when empty), keeping the reduced
// axes as 1 when keepdims is set.
func (g *Graph) ReduceSum(x *Value, axes []int, keepdims bool) *Value {
	return g.reduce("ReduceSum", x, axes, keepdims)
}

// ReduceMean averages x over axes (all axes when empty). It panics if an axis
// is the dynamic one: the count would not be static.
func (g *Graph) ReduceMean(x *Value, axes []int, keepdims bool) *Value {
	return g.reduce("ReduceMean", x, axes, keepdims)
}

func (g *Graph) reduce(op string, x *Value, axes []int, keep bool) *Value {
	if len(axes) == 0 {
		for i := range x.Shape {
			axes = append(axes, i)
		}
	}
	axes = normAxes(op, axes, len(x.Shape))
	if op == "ReduceMean" {
		for _, a := range axes {
			if x.Shape[a] == Batch {
				panic(fmt.Sprintf("graphs: ReduceMean over the dynamic axis %d of %s", a, fmtShape(x.Shape)))
			}
		}
	}
	// At opset 17 ReduceSum takes its axes as an input, ReduceMean as an
	// attribute.
	attrs := map[string]any{"keepdims": boolInt(keep)}
	inputs := []*Value{x}
	if op == "ReduceSum" {
		inputs = append(inputs, g.ints(axes...))
	} else {
		attrs["axes"] = ints64(axes)
	}
	y := g.add(op, attrs, reducedShape(x.Shape, axes, keep), x.DType, inputs...)
	y.node.meta = axes
	return y
}

// ExpandAs broadcasts x to the shape of like, which may have the dynamic
// dimension (then the target shape is taken at run time with Shape).
func (g *Graph) ExpandAs(x, like *Value) *Value {
	shape := broadcast("Expand", x.Shape, like.Shape)
	if !slices.Equal(shape, like.Shape) {
		panic(fmt.Sprintf("graphs: Expand: %s does not broadcast to %s", fmtShape(x.Shape), fmtShape(like.Shape)))
	}
	if slices.Equal(x.Shape, like.Shape) {
		return x
	}
	return g.add("Expand", nil, like.Shape, x.DType, x, g.shapeValue(like.Shape))
}

// OnesLike returns a tensor of ones shaped like x.
func (g *Graph) OnesLike(x *Value) *Value { return g.Full1(x.Shape) }

// Full1 returns a tensor of ones of the given shape.
func (g *Graph) Full1(shape []int) *Value {
	if !slices.Contains(shape, Batch) {
		return g.Full(shape, 1)
	}
	return g.add("Expand", nil, shape, g.float, g.Scalar(1), g.shapeValue(shape))
}

// shapeValue returns shape as an int64 tensor. A dynamic batch is read from
// the first graph input that has one (by convention every dynamic dimension
// is that batch), not from a computed value: shapes taken from computed
// values would keep them alive, and a gradient's seeds and broadcasts must
// not force the forward values they mirror to be computed.
func (g *Graph) shapeValue(shape []int) *Value {
	k := slices.Index(shape, Batch)
	if k < 0 {
		return g.ints(shape...)
	}
	var src *Value
	for _, in := range g.inputs {
		if len(in.Shape) > 0 && in.Shape[0] == Batch {
			src = in
			break
		}
	}
	if src == nil {
		panic(fmt.Sprintf("graphs: shape %s: no input with a dynamic batch", fmtShape(shape)))
	}
	n := g.Slice(g.Shape(src), 0, 0, 1)
	var parts []*Value
	if k > 0 {
		parts = append(parts, g.ints(shape[:k]...))
	}
	parts = append(parts, n)
	if k < len(shape)-1 {
		parts = append(parts, g.ints(shape[k+1:]...))
	}
	if len(parts) == 1 {
		return n
	}
	return g.Concat(0, parts...)
}

// ZerosLike returns a tensor of zeros shaped like x.
func (g *Graph) ZerosLike(x *Value) *Value { return g.ExpandAs(g.Scalar(0), x) }

// Shape returns the int64 shape of x, taken at run time. It has no gradient.
func (g *Graph) Shape(x *Value) *Value {
	return g.add("Shape", nil, []int{len(x.Shape)}, Int64, x)
}

// Reshape returns x with a new static shape, which may hold Batch once.
func (g *Graph) Reshape(x *Value, shape ...int) *Value {
	checkShape("Reshape", shape)
	inDyn, outDyn := slices.Contains(x.Shape, Batch), slices.Contains(shape, Batch)
	if inDyn != outDyn || numel(shape) != numel(x.Shape) {
		panic(fmt.Sprintf("graphs: Reshape: cannot reshape %s to %s", fmtShape(x.Shape), fmtShape(shape)))
	}
	if slices.Equal(shape, x.Shape) {
		return x
	}
	return g.add("Reshape", nil, shape, x.DType, x, g.ints(shape...))
}

// Flatten reshapes x to 2-D: the axes before axis and the axes from it.
func (g *Graph) Flatten(x *Value, axis int) *Value {
	outer, inner := 1, 1
	for i, d := range x.Shape {
		if i < axis {
			outer *= d
		} else {
			inner *= d
		}
	}
	if outer < 0 {
		outer = Batch
	}
	if inner < 0 {
		inner = Batch
	}
	return g.Reshape(x, outer, inner)
}

// Transpose permutes the axes of x.
func (g *Graph) Transpose(x *Value, perm ...int) *Value {
	if len(perm) != len(x.Shape) {
		panic(fmt.Sprintf("graphs: Transpose: perm %v for shape %s", perm, fmtShape(x.Shape)))
	}
	shape := make([]int, len(perm))
	for i, p := range perm {
		shape[i] = x.Shape[p]
	}
	return g.add("Transpose", map[string]any{"perm": ints64(perm)}, shape, x.DType, x)
}

// Concat joins xs along axis, which must be static in every input.
func (g *Graph) Concat(axis int, xs ...*Value) *Value {
	if len(xs) == 0 {
		panic("graphs: Concat of nothing")
	}
	axis = normAxes("Concat", []int{axis}, len(xs[0].Shape))[0]
	shape := slices.Clone(xs[0].Shape)
	shape[axis] = 0
	for _, x := range xs {
		bad := len(x.Shape) != len(shape) || x.Shape[axis] == Batch
		for i := range shape {
			if !bad && i != axis && x.Shape[i] != shape[i] {
				bad = true
			}
		}
		if bad {
			panic(fmt.Sprintf("graphs: Concat on axis %d: shapes %s and %s", axis,
				fmtShape(xs[0].Shape), fmtShape(x.Shape)))
		}
		shape[axis] += x.Shape[axis]
	}
	return g.add("Concat", map[string]any{"axis": int64(axis)}, shape, xs[0].DType, xs...)
}

// Slice returns x[start:end] along axis (step 1); the axis must be static.
func (g *Graph) Slice(x *Value, axis, start, end int) *Value {
	axis = normAxes("Slice", []int{axis}, len(x.Shape))[0]
	d := x.Shape[axis]
	if d == Batch || start < 0 || end > d || start >= end {
		panic(fmt.Sprintf("graphs: Slice [%d:%d] on axis %d of %s", start, end, axis, fmtShape(x.Shape)))
	}
	shape := slices.Clone(x.Shape)
	shape[axis] = end - start
	y := g.add("Slice", nil, shape, x.DType, x, g.ints(start), g.ints(end), g.ints(axis))
	y.node.meta = []int{axis, start}
	return y
}

// Reverse returns x with its elements along axis in reverse order (a
// mirror image when axis is the last of an image); the axis must be static.
// It is written as a Slice of step −1.
func (g *Graph) Reverse(x *Value, axis int) *Value {
	axis = normAxes("Reverse", []int{axis}, len(x.Shape))[0]
	if x.Shape[axis] == Batch {
		panic(fmt.Sprintf("graphs: Reverse on the dynamic axis %d of %s", axis, fmtShape(x.Shape)))
	}
	y := g.add("Reverse", nil, slices.Clone(x.Shape), x.DType, x)
	y.node.meta = []int{axis}
	return y
}

// Pad pads x with zeros: before[i] and after[i] elements on axis i.
func (g *Graph) Pad(x *Value, before, after []int) *Value {
	if len(before) != len(x.Shape) || len(after) != len(x.Shape) {
		panic(fmt.Sprintf("graphs: Pad %v %v for shape %s", before, after, fmtShape(x.Shape)))
	}
	shape := slices.Clone(x.Shape)
	for i := range shape {
		if before[i] < 0 || after[i] < 0 || (shape[i] == Batch && before[i]+after[i] > 0) {
			panic(fmt.Sprintf("graphs: Pad %v %v for shape %s", before, after, fmtShape(x.Shape)))
		}
		if shape[i] != Batch {
			shape[i] += before[i] + after[i]
		}
	}
	return g.add("Pad", nil, shape, x.DType, x, g.ints(append(slices.Clone(before), after...)...))
}

// MatMul returns the matrix product of 2-D a [M,K] and b [K,P].
func (g *Graph) MatMul(a, b *Value) *Value {
	if len(a.Shape) != 2 || len(b.Shape) != 2 || a.Shape[1] != b.Shape[0] {
		panic(fmt.Sprintf("graphs: MatMul: shapes %s and %s", fmtShape(a.Shape), fmtShape(b.Shape)))
	}
	return g.add("MatMul", nil, []int{a.Shape[0], b.Shape[1]}, a.DType, a, b)
}

// Gemm returns a·b + c for 2-D a [M,K], b [K,P] and c broadcast to [M,P].
func (g *Graph) Gemm(a, b, c *Value) *Value {
	if len(a.Shape) != 2 || len(b.Shape) != 2 || a.Shape[1] != b.Shape[0] {
		panic(fmt.Sprintf("graphs: Gemm: shapes %s and %s", fmtShape(a.Shape), fmtShape(b.Shape)))
	}
	shape := []int{a.Shape[0], b.Shape[1]}
	if !slices.Equal(broadcast("Gemm", shape, c.Shape), shape) {
		panic(fmt.Sprintf("graphs: Gemm: bias %s for output %s", fmtShape(c.Shape), fmtShape(shape)))
	}
	return g.add("Gemm", nil, shape, a.DType, a, b, c)
}

func init() {
	// Reductions: broadcast the cotangent back over the reduced axes.
	reduceGrad := func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		x := n.Inputs[0]
		keep := reducedShape(x.Shape, n.meta, true)
		r := g.Reshape(gy, keep...)
		if n.Op == "ReduceMean" {
			count := 1
			for _, a := range n.meta {
				count *= x.Shape[a]
			}
			r = g.Mul(r, g.Scalar(1/float64(count)))
		}
		return []*Value{g.ExpandAs(r, x)}
	}
	rules["ReduceSum"] = reduceGrad
	rules["ReduceMean"] = reduceGrad
	rules["Expand"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		return []*Value{g.unbroadcast(gy, n.Inputs[0].Shape), nil}
	}
	rules["Reshape"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		return []*Value{g.Reshape(gy, n.Inputs[0].Shape...), nil}
	}
	rules["Transpose"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		perm := n.attrs["perm"].([]int64)
		inv := make([]int, len(perm))
		for i, p := range perm {
			inv[p] = i
		}
		return []*Value{g.Transpose(gy, inv...)}
	}
	rules["Concat"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		axis := int(n.attrs["axis"].(int64))
		out := make([]*Value, len(n.Inputs))
		off := 0
		for i, x := range n.Inputs {
			if need[i] {
				out[i] = g.Slice(gy, axis, off, off+x.Shape[axis])
			}
			off += x.Shape[axis]
		}
		return out
	}
	rules["Slice"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		x := n.Inputs[0]
		axis, start := n.meta[0], n.meta[1]
		before, after := make([]int, len(x.Shape)), make([]int, len(x.Shape))
		before[axis] = start
		after[axis] = x.Shape[axis] - start - gy.Shape[axis]
		return []*Value{g.Pad(gy, before, after), nil, nil, nil}
	}
	rules["Reverse"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		return []*Value{g.Reverse(gy, n.meta[0])}
	}
	rules["Pad"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		x := n.Inputs[0]
		pads := n.Inputs[1].data
		r := gy
		for i, d := range x.Shape {
			if b := int(pads[i]); d != Batch && (b > 0 || int(pads[i+len(x.Shape)]) > 0) {
				r = g.Slice(r, i, b, b+d)
			}
		}
		return []*Value{r, nil}
	}
	// y = a·b: ∂a = g·bᵀ, ∂b = aᵀ·g.
	rules["MatMul"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		a, b := n.Inputs[0], n.Inputs[1]
		return pick(need, func() *Value { return g.MatMul(gy, g.Transpose(b, 1, 0)) },
			func() *Value { return g.MatMul(g.Transpose(a, 1, 0), gy) })
	}
	rules["Gemm"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		a, b, c := n.Inputs[0], n.Inputs[1], n.Inputs[2]
		return pick(need, func() *Value { return g.MatMul(gy, g.Transpose(b, 1, 0)) },
			func() *Value { return g.MatMul(g.Transpose(a, 1, 0), gy) },
			func() *Value { return g.unbroadcast(gy, c.Shape) })
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func ints64(xs []int) []int64 {
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = int64(x)
	}
	return out
}
