package graphs

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// DType is the element type of a value.
type DType int

// Element types. A graph's floating values all share its float type.
const (
	Float32 DType = iota + 1
	Float64
	Int64
	Bool
)

func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	case Int64:
		return "int64"
	case Bool:
		return "bool"
	}
	return fmt.Sprintf("DType(%d)", int(d))
}

// Batch marks the dynamic batch dimension in a shape.
const Batch = -1

// Value is a tensor in a graph: a graph input, a constant, or the output of a
// node. Shape is its static shape, with Batch for the dynamic dimension.
type Value struct {
	g     *Graph
	id    int
	name  string
	Shape []int
	DType DType
	node  *Node     // producer; nil for inputs and constants
	data  []float64 // constant contents (floats, or integers held exactly)
	isIn  bool      // graph input
}

// Name returns the value's name in the serialised graph.
func (v *Value) Name() string { return v.name }

// IsConst reports whether v is a constant (an initializer).
func (v *Value) IsConst() bool { return v.data != nil }

// ConstData returns a constant's contents, or nil.
func (v *Value) ConstData() []float64 { return v.data }

func (v *Value) differentiable() bool {
	return v.DType == Float32 || v.DType == Float64
}

// Node is one op of the builder. Convolution nodes are lowered to one or
// more ONNX nodes at serialisation; every other node maps to one ONNX node.
type Node struct {
	id      int
	Op      string
	name    string
	Inputs  []*Value
	Outputs []*Value
	attrs   map[string]any // int64, []int64, float32 or string
	conv    *convParams    // for the convolution ops
	meta    []int          // builder facts: reduced axes; Slice's axis and start
}

// WeightGradLowering selects how a convolution's weight gradient is written
// in ONNX.
type WeightGradLowering int

// The weight-gradient lowerings. Measured on ORT 1.30's CPU provider at
// batch 10 and 32×32 (models' benchmarks): one MatMul per tap is 1.7–1.9×
// faster than the Conv form for stride-1 3×3 convolutions, and 1.2–1.4×
// slower for stride-2 4×4 ones, whose taps are many and small.
const (
	// WeightGradAuto uses MatMul at stride 1 and Conv otherwise (the
	// default).
	WeightGradAuto WeightGradLowering = iota
	// WeightGradMatMul writes one MatMul per kernel tap.
	WeightGradMatMul
	// WeightGradConv writes one Conv over the batch axis.
	WeightGradConv
)

// Graph is an ONNX graph under construction. It is not safe for concurrent
// use.
type Graph struct {
	// WeightGrad selects the lowering of convolution weight gradients at
	// serialisation; both give the same values.
	WeightGrad WeightGradLowering
	// SoftplusOp writes Softplus as the ONNX op rather than as a faster
	// composite of Relu, Abs, Sigmoid and Log (for portable exports, and
	// for readers of the graph).
	SoftplusOp bool

	name    string
	float   DType
	inputs  []*Value
	outputs []output
	nodes   []*Node
	consts  []*Value
	values  int
	scope   string
	counts  map[string]int
	names   map[string]bool
	intKeys map[string]*Value // deduplicated integer constants
	meta    map[string]string // metadata_props
	doc     string
	// producerVersion is written as the model's producer_version.
	producerVersion string
}

type output struct {
	name string
	v    *Value
}

// New returns an empty graph whose floating values are float32.
func New(name string) *Graph {
	return &Graph{
		name:    name,
		float:   Float32,
		scope:   "fwd",
		counts:  map[string]int{},
		names:   map[string]bool{},
		intKeys: map[string]*Value{},
	}
}

// New64 returns an empty graph whose floating values are float64. ONNX
// Runtime has no float64 kernels for Conv, ConvTranspose or Softplus.
func New64(name string) *Graph {
	g := New(name)
	g.float = Float64
	return g
}

// Name returns the graph's name.
func (g *Graph) Name() string { return g.name }

// Float returns the graph's floating type.
func (g *Graph) Float() DType { return g.float }

// Scope returns the scope that prefixes the names of new nodes.
func (g *Graph) Scope() string { return g.scope }

// SetScope sets the scope that prefixes the names of new nodes and returns
// the previous one.
func (g *Graph) SetScope(s string) string {
	old := g.scope
	g.scope = s
	return old
}

func (g *Graph) newValue(name string, shape []int, dt DType) *Value {
	g.values++
	if name == "" {
		name = fmt.Sprintf("v%d", g.values)
	}
	if g.names[name] {
		panic(fmt.Sprintf("graphs: duplicate value name %q", name))
	}
	g.names[name] = true
	return &Value{g: g, id: g.values, name: name, Shape: slices.Clone(shape), DType: dt}
}

// Input declares a floating graph input. Use Batch for the dynamic
// dimension; at most one dimension may be dynamic.
func (g *Graph) Input(name string, shape ...int) *Value {
	checkShape("Input "+name, shape)
	v := g.newValue(name, shape, g.float)
	v.isIn = true
	g.inputs = append(g.inputs, v)
	return v
}

// Const adds a floating constant of the given static shape, stored as an
// initializer. data is copied; its length must match the shape.
func (g *Graph) Const(shape []int, data []float64) *Value {
	return g.constant("", shape, data, g.float)
}

// Initializer adds a named floating constant (a trained weight, say).
func (g *Graph) Initializer(name string, shape []int, data []float64) *Value {
	return g.constant(name, shape, data, g.float)
}

// Scalar adds a rank-0 floating constant.
func (g *Graph) Scalar(x float64) *Value {
	return g.constant("", nil, []float64{x}, g.float)
}

// Full adds a floating constant of the given shape filled with x.
func (g *Graph) Full(shape []int, x float64) *Value {
	data := make([]float64, numel(shape))
	for i := range data {
		data[i] = x
	}
	return g.constant("", shape, data, g.float)
}

func (g *Graph) ints(vals ...int) *Value {
	key := fmt.Sprint(vals)
	if v, ok := g.intKeys[key]; ok {
		return v
	}
	data := make([]float64, len(vals))
	for i, x := range vals {
		data[i] = float64(x)
	}
	v := g.constant("", []int{len(vals)}, data, Int64)
	g.intKeys[key] = v
	return v
}

func (g *Graph) constant(name string, shape []int, data []float64, dt DType) *Value {
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("graphs: constant %q: dynamic shape %v", name, shape))
		}
	}
	if len(data) != numel(shape) {
		panic(fmt.Sprintf("graphs: constant %q: %d values for shape %v", name, len(data), shape))
	}
	if name == "" {
		name = fmt.Sprintf("const%d", len(g.consts))
	}
	v := g.newValue(name, shape, dt)
	v.data = slices.Clone(data)
	if v.data == nil {
		v.data = []float64{}
	}
	g.consts = append(g.consts, v)
	return v
}

// Output marks v as a graph output under name. An output that is a graph
// input or a constant, or that is already an output, is passed through an
// Identity node so that ONNX sees a distinct name.
func (g *Graph) Output(name string, v *Value) {
	if v.g != g {
		panic("graphs: Output of a value from another graph")
	}
	for _, o := range g.outputs {
		if o.name == name {
			panic(fmt.Sprintf("graphs: duplicate output %q", name))
		}
	}
	g.outputs = append(g.outputs, output{name, v})
}

// Inputs returns the graph's inputs in declaration order.
func (g *Graph) Inputs() []*Value { return slices.Clone(g.inputs) }

// InputNames returns the names of the graph's inputs in declaration order.
func (g *Graph) InputNames() []string {
	names := make([]string, len(g.inputs))
	for i, v := range g.inputs {
		names[i] = v.name
	}
	return names
}

// OutputNames returns the names of the graph's outputs in declaration order.
func (g *Graph) OutputNames() []string {
	names := make([]string, len(g.outputs))
	for i, o := range g.outputs {
		names[i] = o.name
	}
	return names
}

// OutputShapes returns the static shapes of the outputs (Batch for the
// dynamic dimension).
func (g *Graph) OutputShapes() [][]int {
	shapes := make([][]int, len(g.outputs))
	for i, o := range g.outputs {
		shapes[i] = slices.Clone(o.v.Shape)
	}
	return shapes
}

// add appends a node with one output of the given shape and type.
func (g *Graph) add(op string, attrs map[string]any, shape []int, dt DType, inputs ...*Value) *Value {
	for _, in := range inputs {
		if in == nil {
			panic(fmt.Sprintf("graphs: %s: nil input", op))
		}
		if in.g != g {
			panic(fmt.Sprintf("graphs: %s: input %s from another graph", op, in.name))
		}
	}
	g.counts[op]++
	n := &Node{
		id:     len(g.nodes),
		Op:     op,
		name:   fmt.Sprintf("%s/%s_%d", g.scope, op, g.counts[op]),
		Inputs: inputs,
		attrs:  attrs,
	}
	out := g.newValue("", shape, dt)
	out.node = n
	n.Outputs = []*Value{out}
	g.nodes = append(g.nodes, n)
	return out
}

// Nodes returns the number of builder nodes (before pruning and lowering).
func (g *Graph) Nodes() int { return len(g.nodes) }

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func checkShape(what string, shape []int) {
	dyn := 0
	for _, d := range shape {
		switch {
		case d == Batch:
			dyn++
		case d <= 0:
			panic(fmt.Sprintf("graphs: %s: bad dimension in shape %v", what, shape))
		}
	}
	if dyn > 1 {
		panic(fmt.Sprintf("graphs: %s: shape %v has more than one dynamic dimension", what, shape))
	}
}

func fmtShape(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		if d == Batch {
			parts[i] = "N"
		} else {
			parts[i] = fmt.Sprint(d)
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// isScalarConst reports whether v is a constant with every element equal to
// x (used to skip multiplications by one and additions of zero).
func isScalarConst(v *Value, x float64) bool {
	if v.data == nil || v.DType == Int64 {
		return false
	}
	for _, d := range v.data {
		if d != x && !(math.IsNaN(d) && math.IsNaN(x)) {
			return false
		}
	}
	return true
}
