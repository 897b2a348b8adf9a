package checkpoint

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/nlpodyssey/safetensors"
)

// Tensor is a named float32 tensor in C (row-major) order. Shape may be
// empty for a rank-0 scalar, which holds one element like Shape [1]. Save
// reads Data and keeps no reference to it; Load returns fresh slices that
// the caller owns.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// maxElements bounds the element count of one tensor so that its size in
// bytes fits an int on every platform Go supports.
const maxElements = math.MaxInt32 / 4

// numElements returns the product of shape, 1 for an empty shape, and
// false if a dimension is negative or the product exceeds maxElements.
func numElements(shape []int) (int, bool) {
	n := 1
	for _, d := range shape {
		if d < 0 || d > maxElements {
			return 0, false
		}
		if d == 0 {
			n = 0
			continue
		}
		if n > maxElements/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// Match reports whether got holds exactly the tensors of want, by name and
// shape, in any order; the data is not compared. A model uses it to check
// that a checkpoint fits its architecture. The error names the first
// tensor of want that is missing from got or has another shape, or else
// the first tensor of got that want does not list.
func Match(got, want []Tensor) error {
	if err := mismatch(got, want); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// mismatch is Match without the package prefix on its error.
func mismatch(got, want []Tensor) error {
	byName := make(map[string]*Tensor, len(got))
	for i := range got {
		byName[got[i].Name] = &got[i]
	}
	listed := make(map[string]bool, len(want))
	for _, w := range want {
		listed[w.Name] = true
		g, ok := byName[w.Name]
		if !ok {
			return fmt.Errorf("%w: %q", ErrMissingTensor, w.Name)
		}
		if !slices.Equal(g.Shape, w.Shape) {
			return fmt.Errorf("%w: tensor %q has shape %v, want %v",
				ErrShape, w.Name, g.Shape, w.Shape)
		}
	}
	for _, g := range got {
		if !listed[g.Name] {
			return fmt.Errorf("%w: %q", ErrUnexpectedTensor, g.Name)
		}
	}
	return nil
}

// f32View presents a Tensor to the safetensors writer. Data encodes the
// values on demand, so a Save holds at most one extra tensor's bytes.
type f32View struct {
	shape []uint64
	data  []float32
}

func (v f32View) DType() safetensors.DType { return safetensors.F32 }
func (v f32View) Shape() []uint64          { return v.shape }
func (v f32View) DataLen() uint64          { return 4 * uint64(len(v.data)) }

// Data returns the values as little-endian IEEE 754 bits. Going through
// math.Float32bits keeps every bit, NaN payloads included.
func (v f32View) Data() []byte {
	b := make([]byte, 4*len(v.data))
	for i, x := range v.data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// decodeF32 returns the little-endian float32 values in b; len(b) must be
// a multiple of 4.
func decodeF32(b []byte) []float32 {
	x := make([]float32, len(b)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return x
}
