package checkpoint

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/nlpodyssey/safetensors"
)

// Load reads checkpoint name from dir and returns its tensors in the order
// they were saved. It checks that the record parses, that the tensor file
// has the recorded size and sha256, and that the file holds exactly the
// recorded tensors, each float32 with the recorded shape. If meta is not
// nil, the saved metadata is unmarshalled into it as by json.Unmarshal.
func Load(dir, name string, meta any) ([]Tensor, error) {
	tensors, rec, err := load(dir, name)
	if err != nil {
		return nil, err
	}
	if err := unmarshalMeta(recordPath(dir, name), rec, meta); err != nil {
		return nil, err
	}
	return tensors, nil
}

// LoadInto loads checkpoint name from dir like Load, checks the tensors
// against dst with Match, and copies their values into the Data of dst, so
// that buffers the caller already owns receive them. If it returns an
// error, no Data of dst has changed.
func LoadInto(dir, name string, dst []Tensor, meta any) error {
	for _, t := range dst {
		if n, ok := numElements(t.Shape); !ok || n != len(t.Data) {
			return fmt.Errorf("checkpoint: %w: destination %q has %d values for shape %v",
				ErrInvalidTensor, t.Name, len(t.Data), t.Shape)
		}
	}
	got, rec, err := load(dir, name)
	if err != nil {
		return err
	}
	if err := mismatch(got, dst); err != nil {
		return fmt.Errorf("checkpoint: %s: %w", recordPath(dir, name), err)
	}
	if err := unmarshalMeta(recordPath(dir, name), rec, meta); err != nil {
		return err
	}

	byName := make(map[string][]float32, len(got))
	for _, t := range got {
		byName[t.Name] = t.Data
	}
	for _, t := range dst {
		copy(t.Data, byName[t.Name])
	}
	return nil
}

// load reads and verifies checkpoint name in dir and returns its tensors
// and record.
func load(dir, name string) ([]Tensor, *record, error) {
	rec, err := readRecord(dir, name)
	if err != nil {
		return nil, nil, err
	}
	path := filepath.Join(dir, rec.TensorFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, openError(path, err)
	}
	if err := verifyTensorFile(path, rec, b); err != nil {
		return nil, nil, err
	}
	tensors, err := decodeTensors(path, rec, b)
	if err != nil {
		return nil, nil, err
	}
	return tensors, rec, nil
}

// ReadMeta unmarshals the metadata of checkpoint name in dir into meta
// without reading the tensor file: it verifies the record, including the
// record's own checksum, but neither the presence nor the checksum of the
// tensors. Use it to read a configuration before building a model.
func ReadMeta(dir, name string, meta any) error {
	rec, err := readRecord(dir, name)
	if err != nil {
		return err
	}
	return unmarshalMeta(recordPath(dir, name), rec, meta)
}

// Exists reports whether dir holds a complete checkpoint name: a valid
// record whose tensor file is present with the recorded size. It does not
// read the tensor file; only Load verifies its checksum.
func Exists(dir, name string) bool {
	rec, err := readRecord(dir, name)
	if err != nil {
		return false
	}
	fi, err := os.Stat(filepath.Join(dir, rec.TensorFile))
	return err == nil && fi.Mode().IsRegular() && fi.Size() == rec.Size
}

// readRecord reads and parses the record of checkpoint name in dir.
func readRecord(dir, name string) (*record, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	path := recordPath(dir, name)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, openError(path, err)
	}
	return parseRecord(path, name, b)
}

// openError describes a failure to read path, naming the file once.
func openError(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("checkpoint: %s: %w", path, ErrNotFound)
	}
	return fmt.Errorf("checkpoint: read %s: %w", path, err)
}

// verifyTensorFile checks the content b of the tensor file at path against
// the size and sha256 in rec.
func verifyTensorFile(path string, rec *record, b []byte) error {
	n := int64(len(b))
	switch {
	case n < rec.Size:
		return fmt.Errorf("checkpoint: %s: %w: %d of %d bytes", path, ErrTruncated, n, rec.Size)
	case n > rec.Size:
		return fmt.Errorf("checkpoint: %s: %d bytes, want %d: %w", path, n, rec.Size, ErrChecksum)
	}
	sum := sha256.Sum256(b)
	if hexSum(sum[:]) != rec.SHA256 {
		return fmt.Errorf("checkpoint: %s: %w", path, ErrChecksum)
	}
	return nil
}

// decodeTensors parses the safetensors content b of the file at path and
// returns the tensors rec lists, in its order, after checking that the file
// holds exactly those tensors with the recorded dtype and shape.
func decodeTensors(path string, rec *record, b []byte) ([]Tensor, error) {
	st, err := safetensors.Deserialize(b)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w: %v", path, ErrBadTensorFile, err)
	}
	tensors := make([]Tensor, len(rec.Tensors))
	for i, e := range rec.Tensors {
		v, ok := st.Tensor(e.Name)
		if !ok {
			return nil, fmt.Errorf("checkpoint: %s: %w: %q", path, ErrMissingTensor, e.Name)
		}
		if v.DType() != safetensors.F32 {
			return nil, fmt.Errorf("checkpoint: %s: %w: tensor %q has dtype %s, want %s",
				path, ErrDType, e.Name, v.DType(), dtypeF32)
		}
		if !shapeEqual(v.Shape(), e.Shape) {
			return nil, fmt.Errorf("checkpoint: %s: %w: tensor %q has shape %v, record says %v",
				path, ErrShape, e.Name, v.Shape(), e.Shape)
		}
		// The library has checked that the data length fits shape and dtype.
		tensors[i] = Tensor{Name: e.Name, Shape: slices.Clone(e.Shape), Data: decodeF32(v.Data())}
	}
	if st.Len() != len(rec.Tensors) {
		listed := func(n string) bool {
			return slices.ContainsFunc(rec.Tensors, func(e tensorEntry) bool { return e.Name == n })
		}
		for _, n := range st.Names() {
			if !listed(n) {
				return nil, fmt.Errorf("checkpoint: %s: %w: %q is not in the record",
					path, ErrUnexpectedTensor, n)
			}
		}
	}
	return tensors, nil
}

// shapeEqual reports whether the file shape a equals the record shape b.
func shapeEqual(a []uint64, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if b[i] < 0 || a[i] != uint64(b[i]) {
			return false
		}
	}
	return true
}

// unmarshalMeta decodes the metadata of rec, read from path, into meta
// unless meta is nil.
func unmarshalMeta(path string, rec *record, meta any) error {
	if meta == nil || len(rec.Meta) == 0 {
		return nil
	}
	if err := json.Unmarshal(rec.Meta, meta); err != nil {
		return fmt.Errorf("checkpoint: %s: metadata: %w", path, err)
	}
	return nil
}
