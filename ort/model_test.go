package ort_test

import (
	"math"
	"math/rand/v2"

	"google.golang.org/protobuf/proto"

	"github.com/egan-ort/egan-ort/onnxpb"
)

// The test network: Conv(4→8, 3x3, pad 1) → Softplus → Conv(8→1, 3x3,
// pad 1) → Sigmoid, on x [N,4,H,W] with N dynamic. Its weights are
// initialisers, so the graph has one input, "x", and one output, "y".
const (
	netCin, netChid, netK = 4, 8, 3
	netH, netW            = 16, 16
)

// netParams holds the test network's weights in ONNX's layouts: W [Cout,
// Cin, K, K] and b [Cout].
type netParams struct {
	w1, b1, w2, b2 []float32
}

// newNetParams draws weights with a fixed seed, scaled by 1/sqrt(fan-in) so
// that the pre-activations spread over softplus's curved part and the
// sigmoid's output is not saturated.
func newNetParams(seed uint64) netParams {
	rng := rand.New(rand.NewPCG(seed, 1))
	draw := func(n, fanIn int) []float32 {
		s := 1 / math.Sqrt(float64(fanIn))
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * s)
		}
		return v
	}
	return netParams{
		w1: draw(netChid*netCin*netK*netK, netCin*netK*netK),
		b1: draw(netChid, netCin*netK*netK),
		w2: draw(netChid*netK*netK, netChid*netK*netK),
		b2: draw(1, netChid*netK*netK),
	}
}

// netModel returns the test network as ONNX model bytes (opset 17, IR
// version 8), built directly with the onnxpb types.
func netModel(p netParams) []byte { return netModelWith(p, nil) }

// netModelWith is netModel with edit applied to the model before it is
// marshalled, for tests that need a broken variant.
func netModelWith(p netParams, edit func(*onnxpb.ModelProto)) []byte {
	ints := func(name string, v ...int64) *onnxpb.AttributeProto {
		return &onnxpb.AttributeProto{
			Name: proto.String(name),
			Type: onnxpb.AttributeProto_INTS.Enum(),
			Ints: v,
		}
	}
	conv := func(in, w, b, out string) *onnxpb.NodeProto {
		return &onnxpb.NodeProto{
			OpType: proto.String("Conv"),
			Input:  []string{in, w, b},
			Output: []string{out},
			Attribute: []*onnxpb.AttributeProto{
				ints("kernel_shape", netK, netK),
				ints("pads", 1, 1, 1, 1),
				ints("strides", 1, 1),
			},
		}
	}
	unary := func(op, in, out string) *onnxpb.NodeProto {
		return &onnxpb.NodeProto{
			OpType: proto.String(op),
			Input:  []string{in},
			Output: []string{out},
		}
	}
	init := func(name string, v []float32, dims ...int64) *onnxpb.TensorProto {
		return &onnxpb.TensorProto{
			Name:      proto.String(name),
			DataType:  proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
			Dims:      dims,
			FloatData: v,
		}
	}
	graph := &onnxpb.GraphProto{
		Name: proto.String("ort_test_net"),
		Node: []*onnxpb.NodeProto{
			conv("x", "w1", "b1", "h1"),
			unary("Softplus", "h1", "h2"),
			conv("h2", "w2", "b2", "h3"),
			unary("Sigmoid", "h3", "y"),
		},
		Initializer: []*onnxpb.TensorProto{
			init("w1", p.w1, netChid, netCin, netK, netK),
			init("b1", p.b1, netChid),
			init("w2", p.w2, 1, netChid, netK, netK),
			init("b2", p.b2, 1),
		},
		Input:  []*onnxpb.ValueInfoProto{tensorInfo("x", netCin)},
		Output: []*onnxpb.ValueInfoProto{tensorInfo("y", 1)},
	}
	model := &onnxpb.ModelProto{
		IrVersion:    proto.Int64(8),
		ProducerName: proto.String("egan-ort ort tests"),
		OpsetImport: []*onnxpb.OperatorSetIdProto{
			{Domain: proto.String(""), Version: proto.Int64(17)},
		},
		Graph: graph,
	}
	if edit != nil {
		edit(model)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(model)
	if err != nil {
		panic("ort_test: marshal test model: " + err.Error())
	}
	return b
}

// tensorInfo declares a float32 tensor [N, c, netH, netW] with N symbolic.
func tensorInfo(name string, c int64) *onnxpb.ValueInfoProto {
	dim := func(v int64) *onnxpb.TensorShapeProto_Dimension {
		return &onnxpb.TensorShapeProto_Dimension{
			Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: v},
		}
	}
	batch := &onnxpb.TensorShapeProto_Dimension{
		Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"},
	}
	return &onnxpb.ValueInfoProto{
		Name: proto.String(name),
		Type: &onnxpb.TypeProto{
			Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
				ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
				Shape: &onnxpb.TensorShapeProto{
					Dim: []*onnxpb.TensorShapeProto_Dimension{batch, dim(c), dim(netH), dim(netW)},
				},
			}},
		},
	}
}

// netReference computes the test network in float64: the reference that
// ORT's float32 result is checked against. x is [n, netCin, netH, netW].
func netReference(p netParams, x []float32, n int) []float64 {
	h := conv2d(toF64(x), n, netCin, toF64(p.w1), toF64(p.b1), netChid)
	for i, v := range h {
		// softplus(v) = log(1 + e^v), written so that large |v| neither
		// overflows nor loses the small term.
		h[i] = math.Max(v, 0) + math.Log1p(math.Exp(-math.Abs(v)))
	}
	y := conv2d(h, n, netChid, toF64(p.w2), toF64(p.b2), 1)
	for i, v := range y {
		y[i] = 1 / (1 + math.Exp(-v))
	}
	return y
}

// conv2d is a direct stride-1 convolution with zero padding netK/2 (ONNX's
// Conv, which is a cross-correlation): out[b,o,i,j] = bias[o] +
// Σ_c Σ_u Σ_v x[b,c,i+u-1,j+v-1] · w[o,c,u,v].
func conv2d(x []float64, n, cin int, w, bias []float64, cout int) []float64 {
	const pad = netK / 2
	out := make([]float64, n*cout*netH*netW)
	for b := range n {
		for o := range cout {
			for i := range netH {
				for j := range netW {
					s := bias[o]
					for c := range cin {
						for u := range netK {
							for v := range netK {
								ii, jj := i+u-pad, j+v-pad
								if ii < 0 || ii >= netH || jj < 0 || jj >= netW {
									continue
								}
								s += x[((b*cin+c)*netH+ii)*netW+jj] *
									w[((o*cin+c)*netK+u)*netK+v]
							}
						}
					}
					out[((b*cout+o)*netH+i)*netW+j] = s
				}
			}
		}
	}
	return out
}

func toF64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, f := range v {
		out[i] = float64(f)
	}
	return out
}

// randInput returns n test images of uniform noise in [-1, 1).
func randInput(seed uint64, n int) []float32 {
	rng := rand.New(rand.NewPCG(seed, 2))
	x := make([]float32, n*netCin*netH*netW)
	for i := range x {
		x[i] = float32(2*rng.Float64() - 1)
	}
	return x
}
