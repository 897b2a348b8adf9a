package export

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/egan-ort/egan-ort/onnxpb"
	"github.com/egan-ort/egan-ort/ort"
)

// MaxModelBytes bounds the size of an ONNX file Open reads.
const MaxModelBytes = 1 << 30

// MaxSize bounds the input side S that Parse accepts: the largest side
// train's --size allows. Inference holds every image at S×S several times
// over, so a crafted model declaring a huge side would exhaust memory.
// infer --help states the limit.
const MaxSize = 512

// MaxBatch bounds the fixed batch of a portable model that Parse accepts:
// inference allocates the whole batch at once.
const MaxBatch = 4096

// ErrNotSegmenter is returned by Parse for a valid ONNX model that is not an
// egan-ort segmenter: it lacks the "image" input or the "mask" output, or
// their shapes are not [N,3,S,S] and [N,1,S,S].
var ErrNotSegmenter = errors.New("export: not an egan-ort segmentation model")

// Info describes an exported model.
type Info struct {
	Size     int               // input side S
	Batch    int               // fixed batch of a portable model; 0 when dynamic
	Metadata map[string]string // metadata_props
}

// Parse decodes an ONNX model and checks that it has the interface of an
// exported segmenter, with an input side of at most MaxSize. name is used
// in errors.
func Parse(name string, model []byte) (*Info, error) {
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(model, &m); err != nil {
		return nil, fmt.Errorf("export: %s: not an ONNX model: %w", name, err)
	}
	g := m.GetGraph()
	if g == nil {
		return nil, fmt.Errorf("export: %s: not an ONNX model: no graph", name)
	}
	in, err := findValue(name, "input", g.GetInput(), Input)
	if err != nil {
		return nil, err
	}
	out, err := findValue(name, "output", g.GetOutput(), Output)
	if err != nil {
		return nil, err
	}
	if len(in) != 4 || len(out) != 4 || in[1] != 3 || out[1] != 1 || in[2] < 1 || in[2] != in[3] ||
		out[2] != in[2] || out[3] != in[3] || in[0] != out[0] {
		return nil, fmt.Errorf("%w: %s: input %v and output %v, want [N,3,S,S] and [N,1,S,S]",
			ErrNotSegmenter, name, in, out)
	}
	if in[2] > MaxSize {
		return nil, fmt.Errorf("export: %s: input side %d is above the limit of %d", name, in[2], MaxSize)
	}
	if in[0] > MaxBatch {
		return nil, fmt.Errorf("export: %s: fixed batch %d is above the limit of %d", name, in[0], MaxBatch)
	}
	info := &Info{Size: int(in[2]), Metadata: map[string]string{}}
	if in[0] > 0 {
		info.Batch = int(in[0])
	}
	for _, p := range m.GetMetadataProps() {
		info.Metadata[p.GetKey()] = p.GetValue()
	}
	if s, ok := info.Metadata["input_size"]; ok {
		if v, err := strconv.Atoi(s); err != nil || v != info.Size {
			return nil, fmt.Errorf("export: %s: metadata input_size %q disagrees with the input's side %d",
				name, s, info.Size)
		}
	}
	return info, nil
}

// findValue returns the static shape of the value called want (−1 for a
// symbolic dimension), or an error naming what the model has instead.
func findValue(file, kind string, vs []*onnxpb.ValueInfoProto, want string) ([]int64, error) {
	var names []string
	for _, v := range vs {
		names = append(names, v.GetName())
		if v.GetName() != want {
			continue
		}
		t := v.GetType().GetTensorType()
		if t == nil || t.GetElemType() != int32(onnxpb.TensorProto_FLOAT) {
			return nil, fmt.Errorf("%w: %s: %s %q is not a float32 tensor", ErrNotSegmenter, file, kind, want)
		}
		var shape []int64
		for _, d := range t.GetShape().GetDim() {
			if dv, ok := d.GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue); ok {
				shape = append(shape, dv.DimValue)
			} else {
				shape = append(shape, -1)
			}
		}
		return shape, nil
	}
	return nil, fmt.Errorf("%w: %s: no %s named %q (the model has %q)", ErrNotSegmenter, file, kind, want, names)
}

// Segmenter runs an exported model in ONNX Runtime.
type Segmenter struct {
	Info *Info
	Path string
	sess *ort.Session
}

// Open reads, checks and loads the exported model at path. Destroy releases
// it.
func Open(path string, o ort.Options) (*Segmenter, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if st.Size() > MaxModelBytes {
		return nil, fmt.Errorf("export: %s: %d bytes, above the limit of %d", path, st.Size(), MaxModelBytes)
	}
	model, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return OpenBytes(path, model, o)
}

// OpenBytes loads an exported model held in memory; name is used in errors.
func OpenBytes(path string, model []byte, o ort.Options) (*Segmenter, error) {
	info, err := Parse(path, model)
	if err != nil {
		return nil, err
	}
	sess, err := ort.NewSession(model, []string{Input}, []string{Output}, o)
	if err != nil {
		return nil, fmt.Errorf("export: %s: %w", path, err)
	}
	return &Segmenter{Info: info, Path: path, sess: sess}, nil
}

// Destroy releases the session.
func (s *Segmenter) Destroy() { s.sess.Destroy() }

// Predict returns the masks' probabilities [n,S,S] of n images x
// ([n,3,S,S], RGB in [0,1]). A portable model runs its fixed batch at a
// time, the last batch padded with zeros.
func (s *Segmenter) Predict(x []float32, n int) ([]float32, error) {
	size := s.Info.Size
	p := size * size
	out := make([]float32, n*p)
	step := n
	if s.Info.Batch > 0 {
		step = s.Info.Batch
	}
	in := make([]float32, step*3*p)
	res := make([]float32, step*p)
	for i := 0; i < n; i += step {
		k := min(step, n-i)
		clear(in)
		copy(in, x[i*3*p:(i+k)*3*p])
		xt, err := ort.NewTensor(in, int64(step), 3, int64(size), int64(size))
		if err != nil {
			return nil, err
		}
		yt, err := ort.NewTensor(res, int64(step), 1, int64(size), int64(size))
		if err != nil {
			xt.Destroy()
			return nil, err
		}
		err = s.sess.Run([]ort.Value{xt}, []ort.Value{yt})
		xt.Destroy()
		yt.Destroy()
		if err != nil {
			return nil, fmt.Errorf("export: %s: %w", s.Path, err)
		}
		copy(out[i*p:], res[:k*p])
	}
	return out, nil
}
