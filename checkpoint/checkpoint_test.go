package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// testMeta stands for what a training run keeps beside its tensors.
type testMeta struct {
	Config map[string]any `json:"config"`
	Epoch  int            `json:"epoch"`
	Step   int64          `json:"step"`
	RNG    []uint64       `json:"rng"`
}

// f32 returns the float32 with the given bits.
func f32(bits uint32) float32 { return math.Float32frombits(bits) }

// ramp returns n values that differ in every element and depend on seed.
func ramp(n int, seed float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = seed + float32(i)*0.001 - float32(i%7)*1e-7
	}
	return x
}

// modelTensors returns a set of tensors of the kinds a model has, with
// values that depend on seed.
func modelTensors(seed float32) []Tensor {
	return []Tensor{
		{Name: "energy.conv1.weight", Shape: []int{4, 3, 3, 3}, Data: ramp(108, seed)},
		{Name: "energy.conv1.bias", Shape: []int{4}, Data: ramp(4, -seed)},
		{Name: "adam.step_scale", Shape: []int{1}, Data: []float32{seed}},
		{Name: "adam.m.energy.conv1.weight", Shape: []int{4, 3, 3, 3}, Data: ramp(108, 2*seed)},
	}
}

// bitsEqual reports whether a and b hold the same float32 bit patterns.
func bitsEqual(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool {
		return math.Float32bits(x) == math.Float32bits(y)
	})
}

// checkTensors fails t unless got equals want bit for bit, in order.
func checkTensors(t *testing.T, got, want []Tensor) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d tensors, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Name != w.Name || !slices.Equal(g.Shape, w.Shape) || !bitsEqual(g.Data, w.Data) {
			t.Fatalf("tensor %d: got %q %v %v, want %q %v %v",
				i, g.Name, g.Shape, g.Data, w.Name, w.Shape, w.Data)
		}
	}
}

// listDir returns the sorted names in dir.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// mustSave saves and fails t on error.
func mustSave(t *testing.T, dir, name string, tensors []Tensor, meta any) {
	t.Helper()
	if err := Save(dir, name, tensors, meta); err != nil {
		t.Fatalf("Save: %v", err)
	}
}

// readRec reads the record of checkpoint name in dir without checks.
func readRec(t *testing.T, dir, name string) record {
	t.Helper()
	b, err := os.ReadFile(recordPath(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// writeRec writes r as the sealed record of checkpoint name in dir, as
// Save would.
func writeRec(t *testing.T, dir, name string, r record) {
	t.Helper()
	b, err := marshalRecord(&r)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(recordPath(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// replaceTensorFile stores content as the tensor file of checkpoint name
// in dir and updates its record to match, so that only the checks after
// the checksum can fail.
func replaceTensorFile(t *testing.T, dir, name string, content []byte) {
	t.Helper()
	r := readRec(t, dir, name)
	if err := os.Remove(filepath.Join(dir, r.TensorFile)); err != nil {
		t.Fatal(err)
	}
	sum := sha256Hex(content)
	r.SHA256, r.Size, r.TensorFile = sum, int64(len(content)), tensorFileName(name, sum)
	if err := os.WriteFile(filepath.Join(dir, r.TensorFile), content, 0o644); err != nil {
		t.Fatal(err)
	}
	writeRec(t, dir, name, r)
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		tensors []Tensor
	}{
		{"model", modelTensors(0.5)},
		{"scalars", []Tensor{
			{Name: "s1", Shape: []int{1}, Data: []float32{3.25}},
			{Name: "rank0", Shape: []int{}, Data: []float32{-7}},
			{Name: "rank0nil", Shape: nil, Data: []float32{1e-30}},
		}},
		{"special values", []Tensor{{Name: "x", Shape: []int{2, 5}, Data: []float32{
			float32(math.Inf(1)), float32(math.Inf(-1)), f32(0x80000000), // -0
			f32(0x00000001), // smallest subnormal
			f32(0x7f7fffff), // largest finite
			f32(0x7fc00000), // quiet NaN
			f32(0x7f800001), // signalling NaN, payload 1
			f32(0xffc12345), // negative NaN with payload
			f32(0x7fbfffff), // signalling NaN, full payload
			f32(0x3f800001), // 1 + ulp
		}}}},
		{"empty tensors", []Tensor{
			{Name: "none", Shape: []int{0, 3}, Data: []float32{}},
			{Name: "one", Shape: []int{1, 1, 1}, Data: []float32{2}},
		}},
		{"no tensors", nil},
		{"unicode names, saved order not sorted", []Tensor{
			{Name: "z", Shape: []int{2}, Data: []float32{1, 2}},
			{Name: "ä.β/γ", Shape: []int{1}, Data: []float32{3}},
			{Name: "a", Shape: []int{3}, Data: []float32{4, 5, 6}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			meta := testMeta{
				Config: map[string]any{"loss": "ebgan", "lr": 1e-4},
				Epoch:  3, Step: 1200, RNG: []uint64{1 << 63, 42},
			}
			mustSave(t, dir, "last", tt.tensors, meta)
			var got testMeta
			tensors, err := Load(dir, "last", &got)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			checkTensors(t, tensors, tt.tensors)
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(meta)
			if !bytes.Equal(gb, wb) {
				t.Errorf("meta: got %s, want %s", gb, wb)
			}
			if err := Match(tensors, tt.tensors); err != nil {
				t.Errorf("Match: %v", err)
			}
		})
	}
}

func TestSaveReplacesAndCleansUp(t *testing.T) {
	dir := t.TempDir()
	mustSave(t, dir, "last", modelTensors(1), testMeta{Step: 1})
	mustSave(t, dir, "best", modelTensors(9), testMeta{Step: 9})
	first := readRec(t, dir, "last").TensorFile

	// Leftovers of an interrupted Save of "last", and files that only look
	// alike, which must survive.
	leftovers := []string{
		".last.json.tmp-123", ".last.safetensors.tmp-9", "last.0123456789abcdef.safetensors",
	}
	keep := []string{
		".last.json.tmp-x",
		"last.0123456789abcdef0.safetensors",
		"lastx.0123456789abcdef.safetensors",
	}
	for _, f := range append(slices.Clone(leftovers), keep...) {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("junk"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	for step := int64(2); step <= 3; step++ {
		mustSave(t, dir, "last", modelTensors(float32(step)), testMeta{Step: step})
		var m testMeta
		got, err := Load(dir, "last", &m)
		if err != nil {
			t.Fatalf("step %d: Load: %v", step, err)
		}
		checkTensors(t, got, modelTensors(float32(step)))
		if m.Step != step {
			t.Errorf("step %d: meta step %d", step, m.Step)
		}
	}
	// Identical content gives the identical tensor file name.
	mustSave(t, dir, "last", modelTensors(3), testMeta{Step: 3})

	r := readRec(t, dir, "last")
	best := readRec(t, dir, "best").TensorFile
	want := append([]string{"best.json", "last.json", best, r.TensorFile}, keep...)
	sort.Strings(want)
	if got := listDir(t, dir); !slices.Equal(got, want) {
		t.Errorf("files after saves:\n got %q\nwant %q", got, want)
	}
	if r.TensorFile == first {
		t.Errorf("tensor file name %s did not change with the content", first)
	}
	if _, err := Load(dir, "best", nil); err != nil {
		t.Errorf("other checkpoint: %v", err)
	}
}

func TestSaveCreatesDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runs", "x")
	mustSave(t, dir, "last", modelTensors(1), nil)
	if _, err := Load(dir, "last", nil); err != nil {
		t.Fatal(err)
	}
}

func TestSaveInvalid(t *testing.T) {
	good := Tensor{Name: "w", Shape: []int{2}, Data: []float32{1, 2}}
	tests := []struct {
		name    string
		ckpt    string
		tensors []Tensor
		meta    any
		wantErr error
		wantMsg string
	}{
		{"empty name", "", nil, nil, ErrBadName, `bad checkpoint name: ""`},
		{"dot", ".", nil, nil, ErrBadName, "bad checkpoint name"},
		{"dotdot", "..", nil, nil, ErrBadName, "bad checkpoint name"},
		{"path", "a/b", nil, nil, ErrBadName, `"a/b"`},
		{"short data", "c", []Tensor{{Name: "w", Shape: []int{2, 3}, Data: make([]float32, 5)}},
			nil,
			ErrInvalidTensor, `tensor "w" has 5 values for shape [2 3]`},
		{"negative dim", "c", []Tensor{{Name: "w", Shape: []int{-1}, Data: nil}}, nil,
			ErrInvalidTensor, `shape [-1]`},
		{"huge shape", "c", []Tensor{{Name: "w", Shape: []int{1 << 20, 1 << 20}, Data: nil}}, nil,
			ErrInvalidTensor, `shape [1048576 1048576]`},
		{"duplicate", "c", []Tensor{good, good}, nil, ErrInvalidTensor, `"w" given twice`},
		{"reserved", "c", []Tensor{{Name: "__metadata__", Shape: []int{1}, Data: []float32{1}}},
			nil,
			ErrInvalidTensor, "reserved"},
		{"empty tensor name", "c", []Tensor{{Shape: []int{1}, Data: []float32{1}}}, nil,
			ErrInvalidTensor, "tensor 0: empty"},
		{"bad utf8", "c", []Tensor{{Name: "\xff", Shape: []int{1}, Data: []float32{1}}}, nil,
			ErrInvalidTensor, "invalid UTF-8"},
		{"meta not JSON", "c", []Tensor{good}, map[string]float64{"x": math.NaN()},
			nil, "marshal metadata"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			err := Save(dir, tt.ckpt, tt.tensors, tt.meta)
			if err == nil {
				t.Fatal("Save succeeded")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %q is not %v", err, tt.wantErr)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "checkpoint: ") || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("error %q, want it to contain %q", err, tt.wantMsg)
			}
			if files := listDir(t, dir); len(files) != 0 {
				t.Errorf("Save left %q", files)
			}
		})
	}
}

func TestExists(t *testing.T) {
	dir := t.TempDir()
	if Exists(dir, "last") {
		t.Fatal("Exists before Save")
	}
	mustSave(t, dir, "last", modelTensors(1), nil)
	if !Exists(dir, "last") {
		t.Fatal("not Exists after Save")
	}
	if Exists(dir, "../last") || Exists(dir, "other") {
		t.Error("Exists for another name")
	}
	tensorPath := filepath.Join(dir, readRec(t, dir, "last").TensorFile)
	if err := os.Truncate(tensorPath, 10); err != nil {
		t.Fatal(err)
	}
	if Exists(dir, "last") {
		t.Error("Exists with a truncated tensor file")
	}
	if err := os.Remove(tensorPath); err != nil {
		t.Fatal(err)
	}
	if Exists(dir, "last") {
		t.Error("Exists without a tensor file")
	}
}

func TestReadMeta(t *testing.T) {
	dir := t.TempDir()
	mustSave(t, dir, "last", modelTensors(1), testMeta{Epoch: 4, Step: 99})
	// The tensor file is not read: ReadMeta works without it.
	os.Remove(filepath.Join(dir, readRec(t, dir, "last").TensorFile))
	var m testMeta
	if err := ReadMeta(dir, "last", &m); err != nil {
		t.Fatal(err)
	}
	if m.Epoch != 4 || m.Step != 99 {
		t.Errorf("meta %+v, want epoch 4 step 99", m)
	}
	if err := ReadMeta(dir, "other", &m); !errors.Is(err, ErrNotFound) {
		t.Errorf("error %v, want ErrNotFound", err)
	}
}

func TestLoadInto(t *testing.T) {
	dir := t.TempDir()
	want := modelTensors(2)
	mustSave(t, dir, "last", want, testMeta{Epoch: 7})

	// Destination buffers in another order, as a model might own them.
	dst := modelTensors(0)
	slices.Reverse(dst)
	var m testMeta
	if err := LoadInto(dir, "last", dst, &m); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(dst)
	checkTensors(t, dst, want)
	if m.Epoch != 7 {
		t.Errorf("epoch %d, want 7", m.Epoch)
	}

	// A destination of another architecture is left alone.
	other := modelTensors(0)
	other[1].Shape, other[1].Data = []int{5}, make([]float32, 5)
	err := LoadInto(dir, "last", other, nil)
	record := filepath.Join(dir, "last.json")
	if !errors.Is(err, ErrShape) || !strings.Contains(err.Error(), record) {
		t.Errorf("error %v, want a shape mismatch naming the record", err)
	}
	checkTensors(t, other[:1], modelTensors(0)[:1])

	bad := []Tensor{{Name: "w", Shape: []int{3}, Data: make([]float32, 2)}}
	if err := LoadInto(dir, "last", bad, nil); !errors.Is(err, ErrInvalidTensor) {
		t.Errorf("error %v, want ErrInvalidTensor", err)
	}
}

func TestMatch(t *testing.T) {
	want := []Tensor{
		{Name: "a", Shape: []int{2, 3}},
		{Name: "b", Shape: []int{1}},
		{Name: "c", Shape: []int{}},
	}
	tests := []struct {
		name    string
		got     []Tensor
		wantErr error
		wantMsg string
	}{
		{"same", want, nil, ""},
		{"other order", []Tensor{want[2], want[0], want[1]}, nil, ""},
		{"nil and empty shape agree", []Tensor{want[0], want[1], {Name: "c"}}, nil, ""},
		{"missing", []Tensor{want[0], want[2]}, ErrMissingTensor, `tensor missing: "b"`},
		{"shape", []Tensor{{Name: "a", Shape: []int{3, 2}}, want[1], want[2]}, ErrShape,
			`shape mismatch: tensor "a" has shape [3 2], want [2 3]`},
		{"scalar rank", []Tensor{want[0], want[1], {Name: "c", Shape: []int{1}}}, ErrShape,
			`tensor "c" has shape [1], want []`},
		{"extra", append(slices.Clone(want), Tensor{Name: "d", Shape: []int{1}}),
			ErrUnexpectedTensor, `unexpected tensor: "d"`},
		{"first mismatch wins", []Tensor{{Name: "a", Shape: []int{1}}}, ErrShape, `"a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Match(tt.got, want)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Match: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "checkpoint: ") || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("error %q, want it to contain %q", msg, tt.wantMsg)
			}
		})
	}
}
