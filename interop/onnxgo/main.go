// Command onnxgo runs an ONNX model in the pure-Go runtime
// github.com/owulveryck/onnx-go (gorgonnx backend) on one float32 input.
//
//	onnxgo -model m.onnx -in x.f32 -shape 4,3,32,32 -out y.f32
//
// The input and output files hold raw little-endian float32 values, the
// output in the layout of the model's first output. It is a module of its
// own because onnx-go v0.5.0 pins 2019 versions of gorgonia and gonum that
// the main module must not inherit.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/owulveryck/onnx-go"
	"github.com/owulveryck/onnx-go/backend/x/gorgonnx"
	"gorgonia.org/tensor"
)

func main() {
	model := flag.String("model", "", "ONNX model `file`")
	in := flag.String("in", "", "input `file` of raw little-endian float32")
	shape := flag.String("shape", "", "input shape, e.g. 4,3,32,32")
	out := flag.String("out", "", "output `file` of raw little-endian float32")
	flag.Parse()
	if *model == "" || *in == "" || *shape == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*model, *in, *shape, *out); err != nil {
		fmt.Fprintln(os.Stderr, "onnxgo:", err)
		os.Exit(1)
	}
}

func run(modelPath, inPath, shapeArg, outPath string) error {
	dims, err := parseShape(shapeArg)
	if err != nil {
		return err
	}
	x, err := readFloat32s(inPath)
	if err != nil {
		return err
	}
	if n := tensor.Shape(dims).TotalSize(); n != len(x) {
		return fmt.Errorf("%s holds %d values, shape %v needs %d", inPath, len(x), dims, n)
	}
	b, err := os.ReadFile(modelPath)
	if err != nil {
		return err
	}

	// Decode the model into a gorgonia graph, feed the input, run.
	backend := gorgonnx.NewGraph()
	m := onnx.NewModel(backend)
	if err := m.UnmarshalBinary(b); err != nil {
		return fmt.Errorf("decode %s: %w", modelPath, err)
	}
	if err := m.SetInput(0, tensor.New(tensor.WithShape(dims...), tensor.WithBacking(x))); err != nil {
		return fmt.Errorf("set input: %w", err)
	}
	if err := backend.Run(); err != nil {
		return fmt.Errorf("run %s: %w", modelPath, err)
	}
	outs, err := m.GetOutputTensors()
	if err != nil {
		return fmt.Errorf("get outputs: %w", err)
	}
	if len(outs) == 0 {
		return fmt.Errorf("%s has no output", modelPath)
	}
	y, ok := outs[0].Data().([]float32)
	if !ok {
		return fmt.Errorf("output of type %T, want []float32", outs[0].Data())
	}
	fmt.Fprintf(os.Stderr, "onnxgo: output shape %v\n", outs[0].Shape())
	return writeFloat32s(outPath, y)
}

func parseShape(s string) ([]int, error) {
	var dims []int
	for _, f := range strings.Split(s, ",") {
		d, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || d < 1 {
			return nil, fmt.Errorf("shape %q: bad dimension %q", s, f)
		}
		dims = append(dims, d)
	}
	return dims, nil
}

func readFloat32s(path string) ([]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("%s: %d bytes is not a whole number of float32", path, len(b))
	}
	x := make([]float32, len(b)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return x, nil
}

func writeFloat32s(path string, x []float32) error {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return os.WriteFile(path, b, 0o644)
}
