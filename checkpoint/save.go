package checkpoint

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/nlpodyssey/safetensors"
)

// Test hooks; both are nil outside tests.
var (
	// testHookWriter wraps the writer of each temporary file Save writes;
	// kind is "tensor" or "record". Tests inject write errors with it.
	testHookWriter func(kind string, w io.Writer) io.Writer
	// testHookStep is called after each step of Save; tests stop a Save
	// there to see what a crash at that point leaves.
	testHookStep func(step string)
)

// Save writes tensors and meta as checkpoint name in dir, creating dir if
// needed, and replaces any previous checkpoint of that name only once the
// new one is complete on disk; see the package documentation for the
// protocol. meta is marshalled with json.Marshal and may be nil. Tensor
// names must be distinct, valid UTF-8, non-empty and not "__metadata__",
// and each Data must hold exactly the elements its Shape asks for.
//
// If Save returns an error, the previous checkpoint is intact and Save has
// removed the files it wrote. Save must not run concurrently with another
// Save of the same name in the same directory.
func Save(dir, name string, tensors []Tensor, meta any) error {
	if err := checkName(name); err != nil {
		return err
	}
	where := filepath.Join(dir, name)
	views, entries, err := prepare(tensors)
	if err != nil {
		return fmt.Errorf("checkpoint: save %s: %w", where, err)
	}
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("checkpoint: save %s: marshal metadata: %w", where, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("checkpoint: save %s: %w", where, err)
	}
	old := committedTensorFile(dir, name)

	// Step 1: the tensor file, durable under a name no record uses yet.
	tensorFile, sum, size, err := saveTensorFile(dir, name, views)
	undo := func() {
		if tensorFile != "" && tensorFile != old {
			os.Remove(filepath.Join(dir, tensorFile))
		}
	}
	if err != nil {
		undo()
		return fmt.Errorf("checkpoint: save %s: %w", where, err)
	}

	// Step 2: the record; its rename is the commit.
	rec := &record{
		Format:     formatName,
		Version:    formatVersion,
		TensorFile: tensorFile,
		Size:       size,
		SHA256:     sum,
		Tensors:    entries,
		Meta:       metaJSON,
	}
	if err := saveRecord(dir, name, rec); err != nil {
		undo()
		return fmt.Errorf("checkpoint: save %s: %w", where, err)
	}
	step("record-renamed")
	if err := syncDir(dir); err != nil {
		// The new record is in place and may or may not survive a crash;
		// either way both tensor files must stay, so nothing is undone.
		return fmt.Errorf("checkpoint: save %s: %w", where, err)
	}

	// Step 3: what the new record no longer needs.
	removeStale(dir, name, tensorFile)
	return nil
}

// saveTensorFile writes views as the tensor file of checkpoint name in
// dir, durably, and returns its base name, hex sha256 and size.
func saveTensorFile(dir, name string, views map[string]f32View) (
	base, sum string, size int64, err error) {
	tmp, sum, size, err := writeTemp(dir, name+".safetensors", "tensor", func(w io.Writer) error {
		return safetensors.SerializeToWriter(views, nil, w)
	})
	if err != nil {
		return "", "", 0, fmt.Errorf("write tensor file: %w", err)
	}
	step("tensor-synced")
	base = tensorFileName(name, sum)
	if err := os.Rename(tmp, filepath.Join(dir, base)); err != nil {
		os.Remove(tmp)
		return "", "", 0, err
	}
	step("tensor-renamed")
	if err := syncDir(dir); err != nil {
		return base, "", 0, err // the caller decides whether to remove base
	}
	return base, sum, size, nil
}

// saveRecord writes rec as the record of checkpoint name in dir, replacing
// the previous one with a rename. The caller syncs dir.
func saveRecord(dir, name string, rec *record) error {
	b, err := marshalRecord(rec)
	if err != nil {
		return fmt.Errorf("marshal record: %w", err)
	}
	tmp, _, _, err := writeTemp(dir, name+".json", "record", func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
	if err != nil {
		return fmt.Errorf("write record: %w", err)
	}
	step("record-synced")
	if err := os.Rename(tmp, recordPath(dir, name)); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// prepare checks tensors and returns them as safetensors views and as
// record entries.
func prepare(tensors []Tensor) (map[string]f32View, []tensorEntry, error) {
	views := make(map[string]f32View, len(tensors))
	entries := make([]tensorEntry, len(tensors))
	for i, t := range tensors {
		switch _, dup := views[t.Name]; {
		case t.Name == "" || !utf8.ValidString(t.Name):
			return nil, nil, fmt.Errorf("%w: tensor %d: empty or invalid UTF-8 name",
				ErrInvalidTensor, i)
		case t.Name == "__metadata__":
			return nil, nil, fmt.Errorf("%w: name %q is reserved by safetensors",
				ErrInvalidTensor, t.Name)
		case dup:
			return nil, nil, fmt.Errorf("%w: name %q given twice", ErrInvalidTensor, t.Name)
		}
		n, ok := numElements(t.Shape)
		if !ok || n != len(t.Data) {
			return nil, nil, fmt.Errorf("%w: tensor %q has %d values for shape %v",
				ErrInvalidTensor, t.Name, len(t.Data), t.Shape)
		}
		shape := make([]uint64, len(t.Shape))
		for j, d := range t.Shape {
			shape[j] = uint64(d)
		}
		views[t.Name] = f32View{shape: shape, data: t.Data}
		entries[i] = tensorEntry{Name: t.Name, DType: dtypeF32, Shape: append([]int{}, t.Shape...)}
	}
	return views, entries, nil
}

// writeTemp writes a new temporary file for base in dir with write, makes
// it durable and returns its path, the hex sha256 and the size of what was
// written. On error it removes the file.
func writeTemp(dir, base, kind string, write func(io.Writer) error) (
	path, sum string, size int64, err error) {
	f, err := os.CreateTemp(dir, "."+base+tmpInfix+"*")
	if err != nil {
		return "", "", 0, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()

	h := sha256.New()
	var w io.Writer = f
	if testHookWriter != nil {
		w = testHookWriter(kind, w)
	}
	c := &countWriter{w: w}
	bw := bufio.NewWriterSize(io.MultiWriter(c, h), 1<<20)
	if err = write(bw); err != nil {
		return "", "", 0, err
	}
	if err = bw.Flush(); err != nil {
		return "", "", 0, err
	}
	if err = f.Chmod(0o644); err != nil {
		return "", "", 0, err
	}
	if err = f.Sync(); err != nil {
		return "", "", 0, err
	}
	if err = f.Close(); err != nil {
		return "", "", 0, err
	}
	return f.Name(), hexSum(h.Sum(nil)), c.n, nil
}

// tmpInfix separates the final base name from the random digits in the
// name of a temporary file: ".NAME.json.tmp-123456".
const tmpInfix = ".tmp-"

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// syncDir makes the renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// step runs testHookStep, if set.
func step(s string) {
	if testHookStep != nil {
		testHookStep(s)
	}
}

// committedTensorFile returns the tensor file named by the current record
// of checkpoint name in dir, or "" if there is no valid record.
func committedTensorFile(dir, name string) string {
	rec, err := readRecord(dir, name)
	if err != nil {
		return ""
	}
	return rec.TensorFile
}

// removeStale removes the tensor files of checkpoint name other than keep
// and the temporary files of interrupted Saves. Failures are ignored: the
// files are garbage, and the next Save tries again.
func removeStale(dir, name, keep string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		base := e.Name()
		if base != keep && isTensorFileName(name, base) || isTempName(name, base) {
			os.Remove(filepath.Join(dir, base))
		}
	}
}

// isTempName reports whether base is a temporary file that Save creates
// for checkpoint name.
func isTempName(name, base string) bool {
	for _, final := range []string{name + ".safetensors", name + ".json"} {
		digits, ok := strings.CutPrefix(base, "."+final+tmpInfix)
		if ok && digits != "" && strings.Trim(digits, "0123456789") == "" {
			return true
		}
	}
	return false
}
