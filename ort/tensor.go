package ort

import (
	"fmt"

	ortgo "github.com/yalue/onnxruntime_go"
)

// Value is any ORT value (a tensor here).
type Value = ortgo.Value

// Tensor is a float32 tensor whose data ORT reads and writes in place.
type Tensor = ortgo.Tensor[float32]

// NewTensor returns a tensor of the given shape over data, without copying:
// data must hold at least the product of shape's dimensions and must outlive
// the tensor. The caller must Destroy the tensor.
func NewTensor(data []float32, shape ...int64) (*Tensor, error) {
	t, err := ortgo.NewTensor(ortgo.NewShape(shape...), data)
	if err != nil {
		return nil, fmt.Errorf("ort: tensor %v over %d floats: %w", shape, len(data), err)
	}
	return t, nil
}

// NewTensor64 is NewTensor for float64 data (used by exact gradient checks).
func NewTensor64(data []float64, shape ...int64) (*ortgo.Tensor[float64], error) {
	t, err := ortgo.NewTensor(ortgo.NewShape(shape...), data)
	if err != nil {
		return nil, fmt.Errorf("ort: tensor %v over %d floats: %w", shape, len(data), err)
	}
	return t, nil
}

// Float32s returns the data of a float32 tensor allocated by ORT, or an error
// naming what it holds instead.
func Float32s(v Value) ([]float32, []int64, error) {
	t, ok := v.(*ortgo.Tensor[float32])
	if !ok {
		return nil, nil, fmt.Errorf("ort: output is %T, want a float32 tensor", v)
	}
	return t.GetData(), t.GetShape(), nil
}
