package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nlpodyssey/safetensors"
)

// sha256Hex returns the lowercase hex sha256 of b.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// flipByte inverts the low bit of byte i of the file at path; a negative i
// counts from the end.
func flipByte(t *testing.T, path string, i int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if i < 0 {
		i += len(b)
	}
	b[i] ^= 1
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// serialize returns a safetensors file holding views, as another tool
// might have written it.
func serialize(t *testing.T, views map[string]safetensors.TensorView) []byte {
	t.Helper()
	b, err := safetensors.Serialize(views, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// view returns a safetensors view of raw little-endian data.
func view(t *testing.T, dtype safetensors.DType, shape []uint64, data []byte,
) safetensors.TensorView {
	t.Helper()
	v, err := safetensors.NewTensorView(dtype, shape, data)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestLoadErrors(t *testing.T) {
	const tensorFile = "<tensor file>" // stands for the file name with its hash
	tests := []struct {
		name     string
		corrupt  func(t *testing.T, dir string)
		wantErr  error
		wantFile string // base name the message must name
		wantMsg  string
		exists   bool // Exists, which reads no tensor data, still says yes
	}{
		{"missing record", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "last.json"))
		}, ErrNotFound, "last.json", "last.json: not found", false},
		{"missing tensor file", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, readRec(t, dir, "last").TensorFile))
		}, ErrNotFound, tensorFile, ": not found", false},
		{"truncated tensor file", func(t *testing.T, dir string) {
			os.Truncate(filepath.Join(dir, readRec(t, dir, "last").TensorFile), 100)
		}, ErrTruncated, tensorFile, ": truncated: 100 of ", false},
		{"empty tensor file", func(t *testing.T, dir string) {
			os.Truncate(filepath.Join(dir, readRec(t, dir, "last").TensorFile), 0)
		}, ErrTruncated, tensorFile, ": truncated: 0 of ", false},
		{"longer tensor file", func(t *testing.T, dir string) {
			path := filepath.Join(dir, readRec(t, dir, "last").TensorFile)
			b, _ := os.ReadFile(path)
			os.WriteFile(path, append(b, 0), 0o644)
		}, ErrChecksum, tensorFile, "file is corrupt or was changed", false},
		{"flipped byte in tensor data", func(t *testing.T, dir string) {
			flipByte(t, filepath.Join(dir, readRec(t, dir, "last").TensorFile), -3)
		}, ErrChecksum, tensorFile, ": sha256 mismatch: file is corrupt or was changed", true},
		{"flipped byte in tensor header", func(t *testing.T, dir string) {
			flipByte(t, filepath.Join(dir, readRec(t, dir, "last").TensorFile), 20)
		}, ErrChecksum, tensorFile, ": sha256 mismatch: file is corrupt or was changed", true},
		{"flipped byte in record", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "last.json"))
			flipByte(t, filepath.Join(dir, "last.json"), strings.Index(string(b), `"epoch": 3`)+9)
		}, ErrChecksum, "last.json", "sha256 mismatch: file is corrupt or was changed", false},
		{"record not JSON", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "last.json"), []byte(`{"format": `), 0o644)
		}, ErrBadRecord, "last.json", "bad record: invalid JSON", false},
		{"record of something else", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "last.json"), []byte(`{"model": "x"}`), 0o644)
		}, ErrBadRecord, "last.json", `bad record: format ""`, false},
		{"record without checksum", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "last.json"))
			s := strings.Replace(string(b), `"record_sha256": "`, `"record_sha256":"`, 1)
			os.WriteFile(filepath.Join(dir, "last.json"), []byte(s), 0o644)
		}, ErrBadRecord, "last.json", "record_sha256 missing", false},
		{"future version", func(t *testing.T, dir string) {
			r := readRec(t, dir, "last")
			r.Version = 2
			writeRec(t, dir, "last", r)
		}, ErrVersion, "last.json", "unsupported format version 2, want 1", false},
		{"record names another tensor file", func(t *testing.T, dir string) {
			r := readRec(t, dir, "last")
			r.TensorFile = "../etc/passwd"
			writeRec(t, dir, "last", r)
		}, ErrBadRecord, "last.json", `tensor_file "../etc/passwd"`, false},
		{"record lists a missing tensor", func(t *testing.T, dir string) {
			r := readRec(t, dir, "last")
			r.Tensors = append(r.Tensors, tensorEntry{Name: "gone", DType: "F32", Shape: []int{1}})
			writeRec(t, dir, "last", r)
		}, ErrMissingTensor, tensorFile, `tensor missing: "gone"`, true},
		{"record lacks a tensor", func(t *testing.T, dir string) {
			r := readRec(t, dir, "last")
			r.Tensors = r.Tensors[1:]
			writeRec(t, dir, "last", r)
		}, ErrUnexpectedTensor, tensorFile, `"energy.conv1.weight" is not in the record`, true},
		{"record shape differs", func(t *testing.T, dir string) {
			r := readRec(t, dir, "last")
			r.Tensors[1].Shape = []int{2, 2}
			writeRec(t, dir, "last", r)
		}, ErrShape, tensorFile,
			`tensor "energy.conv1.bias" has shape [4], record says [2 2]`, true},
		{"record dtype", func(t *testing.T, dir string) {
			r := readRec(t, dir, "last")
			r.Tensors[0].DType = "F16"
			writeRec(t, dir, "last", r)
		}, ErrDType, "last.json", `has dtype "F16", want "F32"`, false},
		{"tensor file dtype", func(t *testing.T, dir string) {
			const f16, f32 = safetensors.F16, safetensors.F32
			w := []uint64{4, 3, 3, 3}
			replaceTensorFile(t, dir, "last", serialize(t, map[string]safetensors.TensorView{
				"energy.conv1.weight":        view(t, f16, w, make([]byte, 216)),
				"energy.conv1.bias":          view(t, f32, []uint64{4}, make([]byte, 16)),
				"adam.step_scale":            view(t, f32, []uint64{1}, make([]byte, 4)),
				"adam.m.energy.conv1.weight": view(t, f32, w, make([]byte, 432)),
			}))
		}, ErrDType, tensorFile, `tensor "energy.conv1.weight" has dtype F16, want F32`, true},
		{"tensor file not safetensors", func(t *testing.T, dir string) {
			replaceTensorFile(t, dir, "last", []byte("PK\x03\x04 this is a zip file"))
		}, ErrBadTensorFile, tensorFile, "bad safetensors file", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			mustSave(t, dir, "last", modelTensors(1), testMeta{Epoch: 3})
			tensorPath := filepath.Join(dir, readRec(t, dir, "last").TensorFile)
			tt.corrupt(t, dir)

			_, err := Load(dir, "last", nil)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error %q is not %v", err, tt.wantErr)
			}
			file := filepath.Join(dir, tt.wantFile)
			if tt.wantFile == tensorFile {
				// The replaced tensor file has a new name: find the current one.
				file = filepath.Join(dir, readRec(t, dir, "last").TensorFile)
				if _, statErr := os.Stat(file); statErr != nil {
					file = tensorPath
				}
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "checkpoint: "+file+": ") {
				t.Errorf("error %q does not start with %q", msg, "checkpoint: "+file+": ")
			}
			if !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("error %q does not contain %q", msg, tt.wantMsg)
			}
			if got := Exists(dir, "last"); got != tt.exists {
				t.Errorf("Exists = %v, want %v", got, tt.exists)
			}
		})
	}
}

// TestLoadFlippedRecordBytes flips bits in each byte of a record in turn:
// a record is only ever accepted intact. It checks the record in memory,
// with the parser Load runs first, to stay fast.
func TestLoadFlippedRecordBytes(t *testing.T) {
	dir := t.TempDir()
	meta := testMeta{Epoch: 3, Config: map[string]any{"lr": 0.001}}
	mustSave(t, dir, "last", modelTensors(1), meta)
	path := filepath.Join(dir, "last.json")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseRecord(path, "last", orig); err != nil {
		t.Fatalf("intact record: %v", err)
	}
	for i := range orig {
		for _, mask := range []byte{0x01, 0x20, 0x80} {
			b := bytes.Clone(orig)
			b[i] ^= mask
			_, err := parseRecord(path, "last", b)
			if err == nil {
				t.Fatalf("byte %d ^ %#x (%q): record accepted", i, mask, orig[i])
			}
			if !strings.HasPrefix(err.Error(), "checkpoint: "+path+": ") {
				t.Fatalf("byte %d ^ %#x: error %q does not name the record", i, mask, err)
			}
		}
	}
}

func TestLoadMetaMismatch(t *testing.T) {
	dir := t.TempDir()
	mustSave(t, dir, "last", modelTensors(1), testMeta{Epoch: 3})
	var wrong struct{ Epoch string }
	_, err := Load(dir, "last", &wrong)
	want := "checkpoint: " + filepath.Join(dir, "last.json") + ": metadata: "
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v, want it to start with %q", err, want)
	}
}
