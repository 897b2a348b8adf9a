package main

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/egan-ort/egan-ort/onnxpb"
	"github.com/egan-ort/egan-ort/ort"
)

// probeDevice opens a session on a one-node model (y = sigmoid(x), x of
// shape [1]) with opts and runs it once: the cheapest proof that the
// execution provider loads and computes.
func probeDevice(opts ort.Options) error {
	info := func(name string) *onnxpb.ValueInfoProto {
		return &onnxpb.ValueInfoProto{
			Name: proto.String(name),
			Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
				ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
				Shape: &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{
					{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 1}},
				}},
			}}},
		}
	}
	model, err := proto.Marshal(&onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}},
		Graph: &onnxpb.GraphProto{
			Name:   proto.String("probe"),
			Node:   []*onnxpb.NodeProto{{OpType: proto.String("Sigmoid"), Input: []string{"x"}, Output: []string{"y"}}},
			Input:  []*onnxpb.ValueInfoProto{info("x")},
			Output: []*onnxpb.ValueInfoProto{info("y")},
		},
	})
	if err != nil {
		return fmt.Errorf("probe %s: marshal model: %w", opts.Device, err)
	}

	s, err := ort.NewSession(model, []string{"x"}, []string{"y"}, opts)
	if err != nil {
		return err
	}
	defer s.Destroy()
	x, y := []float32{0}, []float32{0}
	xt, err := ort.NewTensor(x, 1)
	if err != nil {
		return err
	}
	defer xt.Destroy()
	yt, err := ort.NewTensor(y, 1)
	if err != nil {
		return err
	}
	defer yt.Destroy()
	if err := s.Run([]ort.Value{xt}, []ort.Value{yt}); err != nil {
		return err
	}
	if y[0] != 0.5 {
		return fmt.Errorf("probe %s: sigmoid(0) = %v, want 0.5", opts.Device, y[0])
	}
	return nil
}
