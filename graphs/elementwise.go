package graphs

import (
	"fmt"
	"slices"
)

// broadcast returns the NumPy broadcast of two static shapes, or panics
// naming op. The dynamic dimension broadcasts against 1 and itself only.
func broadcast(op string, a, b []int) []int {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := range n {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db:
			out[i] = da
		case da == 1:
			out[i] = db
		case db == 1:
			out[i] = da
		default:
			panic(fmt.Sprintf("graphs: %s: shapes %s and %s do not broadcast",
				op, fmtShape(a), fmtShape(b)))
		}
	}
	return out
}

func (g *Graph) binary(op string, a, b *Value) *Value {
	if a.DType != b.DType {
		panic(fmt.Sprintf("graphs: %s: types %v and %v differ", op, a.DType, b.DType))
	}
	return g.add(op, nil, broadcast(op, a.Shape, b.Shape), a.DType, a, b)
}

func (g *Graph) unary(op string, x *Value, attrs map[string]any) *Value {
	if !x.differentiable() {
		panic(fmt.Sprintf("graphs: %s: input %s is %v, want a float", op, x.name, x.DType))
	}
	return g.add(op, attrs, x.Shape, x.DType, x)
}

// Add returns a + b with broadcasting.
func (g *Graph) Add(a, b *Value) *Value { return g.binary("Add", a, b) }

// Sub returns a − b with broadcasting.
func (g *Graph) Sub(a, b *Value) *Value { return g.binary("Sub", a, b) }

// Mul returns a · b (element-wise) with broadcasting.
func (g *Graph) Mul(a, b *Value) *Value { return g.binary("Mul", a, b) }

// Div returns a / b (element-wise) with broadcasting.
func (g *Graph) Div(a, b *Value) *Value { return g.binary("Div", a, b) }

// Neg returns −x.
func (g *Graph) Neg(x *Value) *Value { return g.unary("Neg", x, nil) }

// Exp returns eˣ.
func (g *Graph) Exp(x *Value) *Value { return g.unary("Exp", x, nil) }

// Log returns ln x.
func (g *Graph) Log(x *Value) *Value { return g.unary("Log", x, nil) }

// Sqrt returns √x.
func (g *Graph) Sqrt(x *Value) *Value { return g.unary("Sqrt", x, nil) }

// Pow returns xᵖ for a constant exponent p.
func (g *Graph) Pow(x *Value, p float64) *Value {
	return g.binary("Pow", x, g.Scalar(p))
}

// Sigmoid returns σ(x) = 1/(1+e⁻ˣ).
func (g *Graph) Sigmoid(x *Value) *Value { return g.unary("Sigmoid", x, nil) }

// Softplus returns ln(1+eˣ).
func (g *Graph) Softplus(x *Value) *Value { return g.unary("Softplus", x, nil) }

// Tanh returns tanh x.
func (g *Graph) Tanh(x *Value) *Value { return g.unary("Tanh", x, nil) }

// Relu returns max(x, 0).
func (g *Graph) Relu(x *Value) *Value { return g.unary("Relu", x, nil) }

// LeakyRelu returns x for x > 0 and alpha·x otherwise.
func (g *Graph) LeakyRelu(x *Value, alpha float64) *Value {
	return g.unary("LeakyRelu", x, map[string]any{"alpha": float32(alpha)})
}

// Clip clamps x to [lo, hi]. Its gradient is zero where x is clamped.
func (g *Graph) Clip(x *Value, lo, hi float64) *Value {
	if lo > hi {
		panic(fmt.Sprintf("graphs: Clip to [%g, %g]", lo, hi))
	}
	return g.add("Clip", nil, x.Shape, x.DType, x, g.Scalar(lo), g.Scalar(hi))
}

// Greater returns the boolean a > b with broadcasting. It has no gradient.
func (g *Graph) Greater(a, b *Value) *Value {
	if a.DType != b.DType {
		panic(fmt.Sprintf("graphs: Greater: types %v and %v differ", a.DType, b.DType))
	}
	return g.add("Greater", nil, broadcast("Greater", a.Shape, b.Shape), Bool, a, b)
}

// Cast converts x to the graph's float type (from Bool, say).
func (g *Graph) Cast(x *Value) *Value {
	return g.add("Cast", map[string]any{"to": int64(onnxType(g.float))}, x.Shape, g.float, x)
}

// Where returns a where cond holds and b elsewhere, with broadcasting.
func (g *Graph) Where(cond, a, b *Value) *Value {
	if cond.DType != Bool {
		panic(fmt.Sprintf("graphs: Where: condition is %v, want bool", cond.DType))
	}
	shape := broadcast("Where", cond.Shape, broadcast("Where", a.Shape, b.Shape))
	return g.add("Where", nil, shape, a.DType, cond, a, b)
}

// unbroadcast sums a gradient of the broadcast shape back onto shape: over
// the leading axes it lacks and the axes where it has 1.
func (g *Graph) unbroadcast(grad *Value, shape []int) *Value {
	if slices.Equal(grad.Shape, shape) {
		return grad
	}
	lead := len(grad.Shape) - len(shape)
	var axes []int
	for i, d := range grad.Shape {
		if i < lead || (shape[i-lead] == 1 && d != 1) {
			axes = append(axes, i)
		}
	}
	r := grad
	if len(axes) > 0 {
		r = g.ReduceSum(grad, axes, true)
	}
	if !slices.Equal(r.Shape, shape) {
		r = g.Reshape(r, shape...)
	}
	return r
}

// mulMaybe returns a·b, or a when b is the constant 1.
func (g *Graph) mulMaybe(a, b *Value) *Value {
	if isScalarConst(b, 1) {
		return a
	}
	return g.Mul(a, b)
}

func init() {
	rules["Add"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		a, b := n.Inputs[0], n.Inputs[1]
		return pick(need, func() *Value { return g.unbroadcast(gy, a.Shape) },
			func() *Value { return g.unbroadcast(gy, b.Shape) })
	}
	rules["Sub"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		a, b := n.Inputs[0], n.Inputs[1]
		return pick(need, func() *Value { return g.unbroadcast(gy, a.Shape) },
			func() *Value { return g.unbroadcast(g.Neg(gy), b.Shape) })
	}
	rules["Mul"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		a, b := n.Inputs[0], n.Inputs[1]
		return pick(need, func() *Value { return g.unbroadcast(g.mulMaybe(gy, b), a.Shape) },
			func() *Value { return g.unbroadcast(g.mulMaybe(gy, a), b.Shape) })
	}
	// y = a/b: ∂a = g/b, ∂b = −g·y/b.
	rules["Div"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		a, b, y := n.Inputs[0], n.Inputs[1], n.Outputs[0]
		return pick(need, func() *Value { return g.unbroadcast(g.Div(gy, b), a.Shape) },
			func() *Value { return g.unbroadcast(g.Neg(g.Mul(gy, g.Div(y, b))), b.Shape) })
	}
	rules["Neg"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		return []*Value{g.Neg(gy)}
	}
	rules["Exp"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		return []*Value{g.Mul(gy, n.Outputs[0])}
	}
	rules["Log"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		return []*Value{g.Div(gy, n.Inputs[0])}
	}
	// y = √x: ∂x = g/(2y).
	rules["Sqrt"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		return []*Value{g.Div(g.Mul(gy, g.Scalar(0.5)), n.Outputs[0])}
	}
	// y = xᵖ with p constant: ∂x = g·p·xᵖ⁻¹.
	rules["Pow"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		x, p := n.Inputs[0], n.Inputs[1]
		if need[1] {
			panic("graphs: Pow: gradient with respect to the exponent is not supported")
		}
		e := p.data[0]
		var d *Value
		switch e {
		case 1:
			d = gy
		case 2:
			d = g.Mul(gy, g.Mul(x, g.Scalar(2)))
		default:
			d = g.Mul(gy, g.Mul(g.Pow(x, e-1), g.Scalar(e)))
		}
		return []*Value{d, nil}
	}
	// y = σ(x): ∂x = g·y·(1−y).
	rules["Sigmoid"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		y := n.Outputs[0]
		return []*Value{g.Mul(gy, g.Mul(y, g.Sub(g.Scalar(1), y)))}
	}
	rules["Softplus"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		return []*Value{g.Mul(gy, g.Sigmoid(n.Inputs[0]))}
	}
	// y = tanh x: ∂x = g·(1−y²).
	rules["Tanh"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		y := n.Outputs[0]
		return []*Value{g.Mul(gy, g.Sub(g.Scalar(1), g.Mul(y, y)))}
	}
	rules["Relu"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		return []*Value{g.Mul(gy, g.positive(n.Inputs[0]))}
	}
	// ∂x = g·(α + (1−α)·[x>0]).
	rules["LeakyRelu"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		alpha := float64(n.attrs["alpha"].(float32))
		slope := g.Add(g.Scalar(alpha), g.Mul(g.positive(n.Inputs[0]), g.Scalar(1-alpha)))
		return []*Value{g.Mul(gy, slope)}
	}
	// ∂x = g·[lo < x < hi].
	rules["Clip"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		x, lo, hi := n.Inputs[0], n.Inputs[1], n.Inputs[2]
		inside := g.Mul(g.Cast(g.Greater(x, lo)), g.Cast(g.Greater(hi, x)))
		return []*Value{g.Mul(gy, inside), nil, nil}
	}
	rules["Where"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		c, a, b := n.Inputs[0], n.Inputs[1], n.Inputs[2]
		zero := g.Scalar(0)
		return pick(need, nil,
			func() *Value { return g.unbroadcast(g.Where(c, gy, zero), a.Shape) },
			func() *Value { return g.unbroadcast(g.Where(c, zero, gy), b.Shape) })
	}
	rules["Cast"] = func(g *Graph, n *Node, gy *Value, need []bool) []*Value {
		// Only float→float casts carry a gradient; the graph has one float type.
		return []*Value{gy}
	}
}

// positive returns Cast(x > 0), the derivative mask of Relu.
func (g *Graph) positive(x *Value) *Value {
	return g.Cast(g.Greater(x, g.Scalar(0)))
}

// pick evaluates the gradient builders of the inputs that need one.
func pick(need []bool, fs ...func() *Value) []*Value {
	out := make([]*Value, len(fs))
	for i, f := range fs {
		if need[i] && f != nil {
			out[i] = f()
		}
	}
	return out
}
