package export

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/egan-ort/egan-ort/langevin"
	"github.com/egan-ort/egan-ort/models"
	"github.com/egan-ort/egan-ort/onnxpb"
	"github.com/egan-ort/egan-ort/ort"
)

func TestOpenPredict(t *testing.T) {
	e := trainedLike(t, models.DefaultEnergyConfig())
	lc := langevin.DefaultConfig()
	for _, o := range []Options{{}, {Portable: true, Batch: 2}} {
		g, err := Build(e, stats, lc, Options{Portable: o.Portable, Batch: o.Batch,
			Metadata: map[string]string{"input_size": "12"}})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "m.onnx")
		if err := WriteFile(path, g.Bytes()); err != nil {
			t.Fatal(err)
		}
		s, err := Open(path, ort.Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Destroy()
		if s.Info.Size != size || s.Info.Batch != o.Batch {
			t.Fatalf("info %+v", s.Info)
		}
		img := images(3) // 3 images: a portable batch of 2 runs twice, padded
		got, err := s.Predict(img, 3)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxDiff(got, reference(t, e, lc, img, 3, false)); d > 1e-5 {
			t.Fatalf("portable %t: masks differ from egan-ort's inference by %.3g", o.Portable, d)
		}
	}
}

func TestParseRejects(t *testing.T) {
	e := trainedLike(t, models.EnergyConfig{Channels: 4, Depth: 2})
	g, _ := Build(e, stats, langevin.DefaultConfig(), Options{})
	good := g.Bytes()
	if _, err := Parse("good", good); err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"empty":     {},
		"text":      []byte("this is not a model\n"),
		"truncated": good[:len(good)/2],
	}
	for name, b := range cases {
		if _, err := Parse(name, b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A valid ONNX model of another interface.
	other := models.EnergyGradGraph(e).Bytes()
	if _, err := Parse("energy_grad", other); !errors.Is(err, ErrNotSegmenter) {
		t.Errorf("energy_grad graph: got %v, want ErrNotSegmenter", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.onnx"), ort.Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzParse feeds arbitrary bytes to the reader of ONNX files that infer
// --model uses: it must return an error or a consistent Info, never panic.
func FuzzParse(f *testing.F) {
	e, _ := models.NewEnergy(models.EnergyConfig{Channels: 2, Depth: 2, Prior: true}, 8, 1)
	g, _ := Build(e, stats, langevin.Config{Steps: 1, Rate: 2}, Options{})
	f.Add(g.Bytes())
	f.Add([]byte{})
	f.Add([]byte("\x08\x08\x12\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := Parse("fuzz", b)
		if err == nil && (info.Size < 1 || info.Batch < 0) {
			t.Fatalf("accepted with info %+v", info)
		}
	})
}

// TestOpenRefusesLargeSide opens a model that declares an input side above
// MaxSize: it must be refused before anything is sized by it, naming the
// file, the side and the limit.
func TestOpenRefusesLargeSide(t *testing.T) {
	e := trainedLike(t, models.EnergyConfig{Channels: 4, Depth: 2})
	g, err := Build(e, stats, langevin.DefaultConfig(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(g.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	const side = 20000
	for _, v := range append(m.GetGraph().GetInput(), m.GetGraph().GetOutput()...) {
		if v.GetName() != Input && v.GetName() != Output {
			continue
		}
		for _, d := range v.GetType().GetTensorType().GetShape().GetDim()[2:] {
			d.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: side}
		}
	}
	b, err := proto.Marshal(&m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse("huge", b); err == nil {
		t.Errorf("Parse accepted an input side of %d", side)
	}
	path := filepath.Join(t.TempDir(), "huge.onnx")
	if err := WriteFile(path, b); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, ort.Options{Threads: 1})
	if err == nil {
		s.Destroy()
		t.Fatalf("Open(%s) with input side %d: accepted", path, side)
	}
	for _, want := range []string{path, "20000", "limit of 512"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open error %q does not mention %q", err, want)
		}
	}
}

// TestParseRefusesLargeBatch: a portable model whose fixed batch is huge is
// refused before inference would allocate it.
func TestParseRefusesLargeBatch(t *testing.T) {
	e := trainedLike(t, models.EnergyConfig{Channels: 4, Depth: 2})
	g, err := Build(e, stats, langevin.DefaultConfig(), Options{Portable: true, Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(g.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, v := range append(m.GetGraph().GetInput(), m.GetGraph().GetOutput()...) {
		if v.GetName() == Input || v.GetName() == Output {
			v.GetType().GetTensorType().GetShape().GetDim()[0].Value =
				&onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 1_000_000_000}
		}
	}
	b, err := proto.Marshal(&m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse("wide", b); err == nil || !strings.Contains(err.Error(), "fixed batch 1000000000") {
		t.Fatalf("Parse of a batch of 10⁹: %v", err)
	}
}
