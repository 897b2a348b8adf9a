package graphs

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/egan-ort/egan-ort/onnxpb"
)

// Opset and IRVersion are what every serialised graph declares: the newest
// that ONNX 1.12's checker knows.
const (
	Opset     = 17
	IRVersion = 8
)

// SetMetadata sets a metadata_props entry of the serialised model.
func (g *Graph) SetMetadata(key, value string) {
	if g.meta == nil {
		g.meta = map[string]string{}
	}
	g.meta[key] = value
}

// SetProducerVersion sets the model's producer_version (the producer is
// "egan-ort").
func (g *Graph) SetProducerVersion(v string) { g.producerVersion = v }

// SetDoc sets the graph's doc string.
func (g *Graph) SetDoc(doc string) { g.doc = doc }

// Model lowers the graph to an ONNX model holding only what its outputs
// need. Every declared input is kept, used or not.
func (g *Graph) Model() *onnxpb.ModelProto {
	l := &lowering{g: g, names: map[*Value]string{}}
	live := g.live()

	// Outputs produced by a node take the output's name; others (inputs,
	// constants, values output twice) pass through Identity.
	var identities [][2]string
	for _, o := range g.outputs {
		v := o.v
		if v.node != nil && l.names[v] == "" {
			l.names[v] = o.name
		} else {
			identities = append(identities, [2]string{l.name(v), o.name})
		}
	}
	for _, n := range g.nodes {
		if live[n] {
			l.lower(n)
		}
	}
	for i, id := range identities {
		l.emit("Identity", fmt.Sprintf("out/Identity_%d", i+1), []string{id[0]}, []string{id[1]}, nil)
	}

	gp := &onnxpb.GraphProto{Name: proto.String(g.name), Node: l.nodes}
	if g.doc != "" {
		gp.DocString = proto.String(g.doc)
	}
	for _, v := range g.inputs {
		gp.Input = append(gp.Input, valueInfo(v.name, v.Shape, v.DType))
	}
	for _, o := range g.outputs {
		gp.Output = append(gp.Output, valueInfo(o.name, o.v.Shape, o.v.DType))
	}
	for _, c := range g.consts {
		if l.usedConst[c] {
			gp.Initializer = append(gp.Initializer, tensorProto(c.name, c.Shape, c.DType, c.data))
		}
	}
	gp.Initializer = append(gp.Initializer, l.extra...)

	m := &onnxpb.ModelProto{
		IrVersion:       proto.Int64(IRVersion),
		ProducerName:    proto.String("egan-ort"),
		ProducerVersion: proto.String(g.producerVersion),
		OpsetImport:     []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(Opset)}},
		Graph:           gp,
	}
	for _, k := range slices.Sorted(maps.Keys(g.meta)) {
		m.MetadataProps = append(m.MetadataProps,
			&onnxpb.StringStringEntryProto{Key: proto.String(k), Value: proto.String(g.meta[k])})
	}
	return m
}

// Bytes returns the serialised model. The same definition always gives the
// same bytes.
func (g *Graph) Bytes() []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(g.Model())
	if err != nil {
		panic(fmt.Sprintf("graphs: marshal %s: %v", g.name, err)) // cannot happen for a valid proto
	}
	return b
}

// Hash returns the hex SHA-256 of Bytes, which identifies the graph.
func Hash(model []byte) string {
	sum := sha256.Sum256(model)
	return hex.EncodeToString(sum[:])
}

// Visit calls fn, in creation order, for every builder node that the
// outputs need, with its op and inputs (before lowering: convolutions appear
// as Conv, ConvGradInput and ConvGradWeight).
func (g *Graph) Visit(fn func(op string, inputs []*Value)) {
	live := g.live()
	for _, n := range g.nodes {
		if live[n] {
			fn(n.Op, n.Inputs)
		}
	}
}

// live returns the nodes the outputs depend on.
func (g *Graph) live() map[*Node]bool {
	live := map[*Node]bool{}
	var stack []*Value
	for _, o := range g.outputs {
		stack = append(stack, o.v)
	}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if v.node == nil || live[v.node] {
			continue
		}
		live[v.node] = true
		stack = append(stack, v.node.Inputs...)
	}
	return live
}

// lowering turns builder nodes into ONNX nodes.
type lowering struct {
	g         *Graph
	names     map[*Value]string
	usedConst map[*Value]bool
	// constByName finds the graph's constants by name.
	constByName map[string]*Value
	nodes       []*onnxpb.NodeProto
	extra       []*onnxpb.TensorProto
	// flipped holds the flipped copy of each constant kernel whose input
	// gradient the graph takes, made once however many nodes use it.
	flipped map[*Value]string
}

func (l *lowering) name(v *Value) string {
	if s := l.names[v]; s != "" {
		return s
	}
	return v.name
}

// emit appends an ONNX node, and marks the constants it reads as used (a
// lowering may replace a constant by a derived one, which then is the only
// one written).
func (l *lowering) emit(op, name string, in, out []string, attrs map[string]any) {
	if l.constByName == nil {
		l.constByName = map[string]*Value{}
		for _, c := range l.g.consts {
			l.constByName[c.name] = c
		}
		l.usedConst = map[*Value]bool{}
	}
	for _, s := range in {
		if c := l.constByName[s]; c != nil {
			l.usedConst[c] = true
		}
	}
	n := &onnxpb.NodeProto{Name: proto.String(name), OpType: proto.String(op), Input: in, Output: out}
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		n.Attribute = append(n.Attribute, attribute(k, attrs[k]))
	}
	l.nodes = append(l.nodes, n)
}

// constant adds an initializer made during lowering and returns its name.
func (l *lowering) constant(name string, shape []int, dt DType, data []float64) string {
	l.extra = append(l.extra, tensorProto(name, shape, dt, data))
	return name
}

func (l *lowering) lower(n *Node) {
	in := make([]string, len(n.Inputs))
	for i, v := range n.Inputs {
		in[i] = l.name(v)
	}
	out := []string{l.name(n.Outputs[0])}
	switch n.Op {
	case "Conv":
		l.emit("Conv", n.name, in, out, convAttrs(n.conv.ConvOpts, n.conv.kernel))
	case "Softplus":
		l.lowerSoftplus(n, in, out)
	case "ConvGradInput":
		l.lowerConvGradInput(n, in, out)
	case "ConvGradWeight":
		mode := l.g.WeightGrad
		if mode == WeightGradAuto {
			mode = WeightGradConv
			if n.conv.Strides == [2]int{1, 1} {
				mode = WeightGradMatMul
			}
		}
		if mode == WeightGradConv {
			l.lowerConvGradWeight(n, in, out)
		} else {
			l.lowerConvGradWeightMatMul(n, in, out)
		}
	case "Reverse":
		axis, d := n.meta[0], n.Inputs[0].Shape[n.meta[0]]
		starts := l.constant(n.name+"/starts", []int{1}, Int64, []float64{-1})
		ends := l.constant(n.name+"/ends", []int{1}, Int64, []float64{float64(-d - 1)})
		axes := l.constant(n.name+"/axes", []int{1}, Int64, []float64{float64(axis)})
		steps := l.constant(n.name+"/steps", []int{1}, Int64, []float64{-1})
		l.emit("Slice", n.name, []string{in[0], starts, ends, axes, steps}, out, nil)
	default:
		l.emit(n.Op, n.name, in, out, n.attrs)
	}
}

func convAttrs(o ConvOpts, k [2]int) map[string]any {
	return map[string]any{
		"kernel_shape": []int64{int64(k[0]), int64(k[1])},
		"strides":      ints64(o.Strides[:]),
		"pads":         ints64(o.Pads[:]),
		"dilations":    ints64(o.Dilations[:]),
	}
}

// lowerSoftplus writes softplus(x) = max(x, 0) − log σ(|x|), unless the
// graph asks for the Softplus op: ONNX Runtime's CPU Softplus kernel takes
// about 4× the time of these five element-wise ops together (2.5 ms against
// 0.6 ms on 327,680 floats on this project's 2-core machine), and training
// spends a quarter of the unary net's time in it. σ(|x|) ∈ [½, 1], so the
// logarithm is never of anything small.
func (l *lowering) lowerSoftplus(n *Node, in, out []string) {
	if l.g.SoftplusOp {
		l.emit("Softplus", n.name, in, out, nil)
		return
	}
	r, a, s, lg := n.name+"/relu", n.name+"/abs", n.name+"/sigmoid_abs", n.name+"/log_sigmoid"
	l.emit("Relu", n.name+"/Relu", in, []string{r}, nil)
	l.emit("Abs", n.name+"/Abs", in, []string{a}, nil)
	l.emit("Sigmoid", n.name+"/Sigmoid", []string{a}, []string{s}, nil)
	l.emit("Log", n.name+"/Log", []string{s}, []string{lg}, nil)
	l.emit("Sub", n.name, []string{r, lg}, out, nil)
}

// lowerConvGradInput writes CIG(u, w) = Cₓᵀu. At stride 1 it is a Conv of u
// with w's channel axes swapped and its kernel flipped, padded by
// d(k−1) − p on each side; otherwise, or when that pad would be negative, a
// ConvTranspose with output_padding = (H + p_begin + p_end − d(k−1) − 1) mod s.
func (l *lowering) lowerConvGradInput(n *Node, in, out []string) {
	p := n.conv
	var pads [4]int
	flip := p.Strides == [2]int{1, 1}
	for i := range 2 {
		span := p.Dilations[i] * (p.kernel[i] - 1)
		pads[i], pads[i+2] = span-p.Pads[i], span-p.Pads[i+2]
		flip = flip && pads[i] >= 0 && pads[i+2] >= 0
	}
	if !flip {
		op := p.outputPadding()
		attrs := convAttrs(p.ConvOpts, p.kernel)
		attrs["output_padding"] = ints64(op[:])
		l.emit("ConvTranspose", n.name, in, out, attrs)
		return
	}
	w := n.Inputs[1]
	var wf string
	if w.data != nil {
		if wf = l.flipped[w]; wf == "" {
			wf = l.constant(n.name+"/flipped_weight", []int{p.cin, p.cout, p.kernel[0], p.kernel[1]},
				w.DType, flipKernel(w.data, p.cout, p.cin, p.kernel))
			if l.flipped == nil {
				l.flipped = map[*Value]string{}
			}
			l.flipped[w] = wf
		}
	} else {
		wt := n.name + "/weight_T"
		l.emit("Transpose", n.name+"/Transpose_weight", []string{in[1]}, []string{wt},
			map[string]any{"perm": []int64{1, 0, 2, 3}})
		wf = n.name + "/weight_flipped"
		k := p.kernel
		starts := l.constant(n.name+"/flip_starts", []int{2}, Int64, []float64{-1, -1})
		ends := l.constant(n.name+"/flip_ends", []int{2}, Int64,
			[]float64{float64(-k[0] - 1), float64(-k[1] - 1)})
		axes := l.constant(n.name+"/flip_axes", []int{2}, Int64, []float64{2, 3})
		steps := l.constant(n.name+"/flip_steps", []int{2}, Int64, []float64{-1, -1})
		l.emit("Slice", n.name+"/Flip_weight", []string{wt, starts, ends, axes, steps}, []string{wf}, nil)
	}
	o := ConvOpts{Strides: [2]int{1, 1}, Dilations: p.Dilations, Pads: pads}
	l.emit("Conv", n.name, []string{in[0], wf}, out, convAttrs(o, p.kernel))
}

// flipKernel returns w [cout,cin,kh,kw] as [cin,cout,kh,kw] with both
// spatial axes reversed.
func flipKernel(w []float64, cout, cin int, k [2]int) []float64 {
	out := make([]float64, len(w))
	for o := range cout {
		for c := range cin {
			for i := range k[0] {
				for j := range k[1] {
					src := ((o*cin+c)*k[0]+i)*k[1] + j
					dst := ((c*cout+o)*k[0]+(k[0]-1-i))*k[1] + (k[1] - 1 - j)
					out[dst] = w[src]
				}
			}
		}
	}
	return out
}

// lowerConvGradWeight writes CWG(x, u) = C_wᵀu as a convolution over the
// batch axis: Conv(xᵀ, uᵀ) with xᵀ = Transpose(x, [1,0,2,3]) [Cin,N,H,W] and
// uᵀ [Cout,N,Ho,Wo] as the kernel, strides = the forward dilations,
// dilations = the forward strides and the forward pads. The result
// [Cin,Cout,A,B] has A ≥ kh; it is sliced to the kernel and transposed back.
func (l *lowering) lowerConvGradWeight(n *Node, in, out []string) {
	p := n.conv
	perm := map[string]any{"perm": []int64{1, 0, 2, 3}}
	xt, ut := n.name+"/x_T", n.name+"/u_T"
	l.emit("Transpose", n.name+"/Transpose_x", []string{in[0]}, []string{xt}, perm)
	l.emit("Transpose", n.name+"/Transpose_u", []string{in[1]}, []string{ut}, perm)
	o := ConvOpts{Strides: p.Dilations, Dilations: p.Strides, Pads: p.Pads}
	full := n.name + "/full"
	attrs := convAttrs(o, p.out)
	l.emit("Conv", n.name+"/Conv", []string{xt, ut}, []string{full}, attrs)

	var a [2]int
	for i := range 2 {
		a[i] = (p.in[i]+p.Pads[i]+p.Pads[i+2]-p.Strides[i]*(p.out[i]-1)-1)/p.Dilations[i] + 1
	}
	cut := full
	if a != p.kernel {
		cut = n.name + "/cut"
		starts := l.constant(n.name+"/cut_starts", []int{2}, Int64, []float64{0, 0})
		ends := l.constant(n.name+"/cut_ends", []int{2}, Int64,
			[]float64{float64(p.kernel[0]), float64(p.kernel[1])})
		axes := l.constant(n.name+"/cut_axes", []int{2}, Int64, []float64{2, 3})
		l.emit("Slice", n.name+"/Slice", []string{full, starts, ends, axes}, []string{cut}, nil)
	}
	l.emit("Transpose", n.name+"/Transpose_w", []string{cut}, out, perm)
}

// lowerConvGradWeightMatMul writes CWG(x, u) as one MatMul per kernel tap
// (a, b), contracting over the batch and the output pixels:
//
//	dW[:, :, a, b] = U · X_ab,  U = u as [Cout, N·Ho·Wo],
//	X_ab = x_pad[:, :, a·d + s·i, b·d + s·j] as [N·Ho·Wo, Cin]
//
// with x_pad the padded input in NHWC order, sliced per tap with the
// forward stride as step. Each product is a large GEMM, where the
// convolution form runs Cin narrow ones.
func (l *lowering) lowerConvGradWeightMatMul(n *Node, in, out []string) {
	p := n.conv
	name := n.name
	xp := in[0]
	if p.Pads != [4]int{} {
		xp = name + "/x_pad"
		pads := l.constant(name+"/pads", []int{8}, Int64,
			[]float64{0, 0, float64(p.Pads[0]), float64(p.Pads[1]), 0, 0, float64(p.Pads[2]), float64(p.Pads[3])})
		l.emit("Pad", name+"/Pad", []string{in[0], pads}, []string{xp}, nil)
	}
	xt := name + "/x_nhwc"
	l.emit("Transpose", name+"/Transpose_x", []string{xp}, []string{xt}, map[string]any{"perm": []int64{0, 2, 3, 1}})
	ut, um := name+"/u_T", name+"/u_mat"
	l.emit("Transpose", name+"/Transpose_u", []string{in[1]}, []string{ut}, map[string]any{"perm": []int64{1, 0, 2, 3}})
	l.emit("Reshape", name+"/Reshape_u", []string{ut, l.constant(name+"/u_shape", []int{2}, Int64,
		[]float64{float64(p.cout), -1})}, []string{um}, nil)

	xShape := l.constant(name+"/x_shape", []int{2}, Int64, []float64{-1, float64(p.cin)})
	tapShape := l.constant(name+"/tap_shape", []int{3}, Int64, []float64{float64(p.cout), float64(p.cin), 1})
	axes := l.constant(name+"/tap_axes", []int{2}, Int64, []float64{1, 2})
	steps := l.constant(name+"/tap_steps", []int{2}, Int64, []float64{float64(p.Strides[0]), float64(p.Strides[1])})
	var taps []string
	for a := range p.kernel[0] {
		for b := range p.kernel[1] {
			tap := fmt.Sprintf("%s/tap%d_%d", name, a, b)
			y0, x0 := a*p.Dilations[0], b*p.Dilations[1]
			starts := l.constant(tap+"/starts", []int{2}, Int64, []float64{float64(y0), float64(x0)})
			ends := l.constant(tap+"/ends", []int{2}, Int64,
				[]float64{float64(y0 + (p.out[0]-1)*p.Strides[0] + 1), float64(x0 + (p.out[1]-1)*p.Strides[1] + 1)})
			l.emit("Slice", tap+"/Slice", []string{xt, starts, ends, axes, steps}, []string{tap + "/x"}, nil)
			l.emit("Reshape", tap+"/Reshape_x", []string{tap + "/x", xShape}, []string{tap + "/x_mat"}, nil)
			l.emit("MatMul", tap+"/MatMul", []string{um, tap + "/x_mat"}, []string{tap + "/dw"}, nil)
			l.emit("Reshape", tap+"/Reshape_dw", []string{tap + "/dw", tapShape}, []string{tap + "/dw3"}, nil)
			taps = append(taps, tap+"/dw3")
		}
	}
	all := name + "/taps"
	l.emit("Concat", name+"/Concat", taps, []string{all}, map[string]any{"axis": int64(2)})
	l.emit("Reshape", name+"/Reshape_w", []string{all, l.constant(name+"/w_shape", []int{4}, Int64,
		[]float64{float64(p.cout), float64(p.cin), float64(p.kernel[0]), float64(p.kernel[1])})}, out, nil)
}

func onnxType(d DType) onnxpb.TensorProto_DataType {
	switch d {
	case Float32:
		return onnxpb.TensorProto_FLOAT
	case Float64:
		return onnxpb.TensorProto_DOUBLE
	case Int64:
		return onnxpb.TensorProto_INT64
	case Bool:
		return onnxpb.TensorProto_BOOL
	}
	panic(fmt.Sprintf("graphs: no ONNX type for %v", d))
}

func valueInfo(name string, shape []int, dt DType) *onnxpb.ValueInfoProto {
	dims := make([]*onnxpb.TensorShapeProto_Dimension, len(shape))
	for i, d := range shape {
		if d == Batch {
			dims[i] = &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}}
		} else {
			dims[i] = &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}}
		}
	}
	return &onnxpb.ValueInfoProto{
		Name: proto.String(name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(onnxType(dt))),
			Shape:    &onnxpb.TensorShapeProto{Dim: dims},
		}}},
	}
}

// tensorProto stores data little-endian in raw_data, as the element type.
func tensorProto(name string, shape []int, dt DType, data []float64) *onnxpb.TensorProto {
	var raw []byte
	for _, x := range data {
		switch dt {
		case Float32:
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(x)))
		case Float64:
			raw = binary.LittleEndian.AppendUint64(raw, math.Float64bits(x))
		case Int64:
			raw = binary.LittleEndian.AppendUint64(raw, uint64(int64(x)))
		default:
			panic(fmt.Sprintf("graphs: constant %s of type %v", name, dt))
		}
	}
	if raw == nil {
		raw = []byte{}
	}
	return &onnxpb.TensorProto{
		Name:     proto.String(name),
		Dims:     ints64(shape),
		DataType: proto.Int32(int32(onnxType(dt))),
		RawData:  raw,
	}
}

func attribute(name string, v any) *onnxpb.AttributeProto {
	a := &onnxpb.AttributeProto{Name: proto.String(name)}
	switch x := v.(type) {
	case int64:
		a.Type, a.I = onnxpb.AttributeProto_INT.Enum(), proto.Int64(x)
	case []int64:
		a.Type, a.Ints = onnxpb.AttributeProto_INTS.Enum(), x
	case float32:
		a.Type, a.F = onnxpb.AttributeProto_FLOAT.Enum(), proto.Float32(x)
	case string:
		a.Type, a.S = onnxpb.AttributeProto_STRING.Enum(), []byte(x)
	default:
		panic(fmt.Sprintf("graphs: attribute %s of type %T", name, v))
	}
	return a
}

// FLOPs returns the floating-point operations of one run of the graph at
// the given batch size, counting the multiply-adds of convolutions (and
// their two gradients, which cost as much as the forward) and matrix
// products as 2 each. Element-wise ops are left out: next to the
// convolutions they are noise.
func (g *Graph) FLOPs(batch int) float64 {
	total := 0.0
	dim := func(d int) float64 {
		if d == Batch {
			return float64(batch)
		}
		return float64(d)
	}
	live := g.live()
	for _, n := range g.nodes {
		if !live[n] {
			continue
		}
		switch {
		case n.conv != nil:
			// Conv, ConvGradInput and ConvGradWeight all do the forward's
			// multiply-adds.
			p := n.conv
			total += 2 * float64(batch) * float64(p.cout*p.out[0]*p.out[1]) * float64(p.cin*p.kernel[0]*p.kernel[1])
		case n.Op == "MatMul" || n.Op == "Gemm":
			a, b := n.Inputs[0].Shape, n.Inputs[1].Shape
			total += 2 * dim(a[0]) * dim(a[1]) * dim(b[1])
		}
	}
	return total
}
