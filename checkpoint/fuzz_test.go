package checkpoint

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Placeholders in the fuzzed record that FuzzLoad replaces with values
// computed from the fuzzed tensor file, so that inputs get past the
// checksums and reach the safetensors decoder.
const (
	fuzzSHA  = "@SHA@"
	fuzzFile = "@FILE@"
	fuzzSize = "@SIZE@"
)

// fuzzSeed saves tensors and returns the record, with the values that
// depend on the tensor file turned into placeholders, and the tensor file.
func fuzzSeed(f testing.TB, tensors []Tensor, meta any) (rec, tensorFile []byte) {
	dir := f.TempDir()
	if err := Save(dir, "ck", tensors, meta); err != nil {
		f.Fatal(err)
	}
	rec, err := os.ReadFile(filepath.Join(dir, "ck.json"))
	if err != nil {
		f.Fatal(err)
	}
	r, err := parseRecord("ck.json", "ck", rec)
	if err != nil {
		f.Fatal(err)
	}
	tensorFile, err = os.ReadFile(filepath.Join(dir, r.TensorFile))
	if err != nil {
		f.Fatal(err)
	}
	s := strings.NewReplacer(
		r.RecordSHA256, zeroSum,
		r.TensorFile, fuzzFile,
		r.SHA256, fuzzSHA,
		`"size": `+strconv.FormatInt(r.Size, 10), `"size": `+fuzzSize,
	).Replace(string(rec))
	return []byte(s), tensorFile
}

// fillPlaceholders returns rec with the placeholders replaced by the values
// for tensorFile and, if it has the zeroSum placeholder, sealed.
func fillPlaceholders(rec, tensorFile []byte) []byte {
	sum := sha256Hex(tensorFile)
	rec = bytes.ReplaceAll(rec, []byte(fuzzFile), []byte(tensorFileName("ck", sum)))
	rec = bytes.ReplaceAll(rec, []byte(fuzzSHA), []byte(sum))
	rec = bytes.ReplaceAll(rec, []byte(fuzzSize), []byte(strconv.Itoa(len(tensorFile))))
	if bytes.Contains(rec, []byte(recordSumKey+zeroSum)) {
		rec = sealRecord(rec)
	}
	return rec
}

// TestFuzzSeedsDecode checks that the placeholders of FuzzLoad work: a
// seed made from a saved checkpoint decodes to that checkpoint.
func TestFuzzSeedsDecode(t *testing.T) {
	want := modelTensors(1)
	rec, tensorFile := fuzzSeed(t, want, nil)
	r, err := parseRecord("ck.json", "ck", fillPlaceholders(rec, tensorFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyTensorFile("ck", r, tensorFile); err != nil {
		t.Fatal(err)
	}
	got, err := decodeTensors("ck", r, tensorFile)
	if err != nil {
		t.Fatal(err)
	}
	checkTensors(t, got, want)
}

// FuzzLoad feeds arbitrary records and tensor files through the checks
// and the decoding that Load runs; none may panic, and whatever they
// accept must be consistent with the record.
func FuzzLoad(f *testing.F) {
	for _, seed := range []struct {
		tensors []Tensor
		meta    any
	}{
		{modelTensors(1), testMeta{Epoch: 1, RNG: []uint64{7}}},
		{[]Tensor{
			{Name: "s", Shape: []int{}, Data: []float32{1}},
			{Name: "e", Shape: []int{0, 2}},
		}, nil},
		{nil, map[string]string{"k": "v"}},
	} {
		rec, tensorFile := fuzzSeed(f, seed.tensors, seed.meta)
		f.Add(rec, tensorFile)
	}
	f.Add([]byte(`{}`), []byte{})
	f.Add([]byte(`{"record_sha256": "`+zeroSum+`", "format": "egan-ort-checkpoint", "version": 1,`+
		` "tensor_file": "@FILE@", "size": @SIZE@, "sha256": "@SHA@",`+
		` "tensors": [{"name": "x", "dtype": "F32", "shape": [2]}]}`),
		[]byte("\x36\x00\x00\x00\x00\x00\x00\x00"+
			`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`+
			"\x00\x00\x80\x3f\x00\x00\x00\x40"))

	f.Fuzz(func(t *testing.T, rec, tensorFile []byte) {
		r, err := parseRecord("ck.json", "ck", fillPlaceholders(rec, tensorFile))
		if err != nil {
			return
		}
		if err := verifyTensorFile(r.TensorFile, r, tensorFile); err != nil {
			return
		}
		tensors, err := decodeTensors(r.TensorFile, r, tensorFile)
		if err != nil {
			return
		}
		if len(tensors) != len(r.Tensors) {
			t.Fatalf("%d tensors, record lists %d", len(tensors), len(r.Tensors))
		}
		for i, x := range tensors {
			n, ok := numElements(x.Shape)
			if !ok || n != len(x.Data) || x.Name != r.Tensors[i].Name {
				t.Fatalf("tensor %d: %q shape %v with %d values", i, x.Name, x.Shape, len(x.Data))
			}
		}
		var meta any
		unmarshalMeta("ck.json", r, &meta)
	})
}
