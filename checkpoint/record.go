package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Format identification written into every record.
const (
	formatName    = "egan-ort-checkpoint"
	formatVersion = 1
	dtypeF32      = "F32"
	hashPrefixLen = 16 // hex digits of the sha256 in the tensor file name
)

// record is the content of NAME.json, the commit record of a checkpoint.
type record struct {
	// RecordSHA256 is the sha256 of the file as written, with these 64
	// hex digits read as zeros; see sealRecord. It comes first so that
	// its text is the first match of recordSumKey in the file.
	RecordSHA256 string `json:"record_sha256"`

	Format     string          `json:"format"`
	Version    int             `json:"version"`
	TensorFile string          `json:"tensor_file"` // base name, in the same dir
	Size       int64           `json:"size"`        // bytes of the tensor file
	SHA256     string          `json:"sha256"`      // lowercase hex
	Tensors    []tensorEntry   `json:"tensors"`     // in saved order
	Meta       json.RawMessage `json:"meta"`        // the caller's metadata
}

// tensorEntry describes one tensor of a record.
type tensorEntry struct {
	Name  string `json:"name"`
	DType string `json:"dtype"`
	Shape []int  `json:"shape"`
}

// checkName reports whether name can name a checkpoint: a non-empty plain
// file name that needs no escaping in the files derived from it.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." ||
		strings.ContainsAny(name, `/\`+"\x00") || filepath.Base(name) != name {
		return fmt.Errorf("checkpoint: %w: %q", ErrBadName, name)
	}
	return nil
}

// recordPath returns the path of the commit record of checkpoint name.
func recordPath(dir, name string) string {
	return filepath.Join(dir, name+".json")
}

// tensorFileName returns the base name of the tensor file of checkpoint
// name whose content has the given lowercase hex sha256.
func tensorFileName(name, sum string) string {
	return name + "." + sum[:hashPrefixLen] + ".safetensors"
}

// isTensorFileName reports whether base has the form tensorFileName gives
// for checkpoint name, whatever the hash.
func isTensorFileName(name, base string) bool {
	h, ok := strings.CutPrefix(base, name+".")
	if !ok {
		return false
	}
	h, ok = strings.CutSuffix(h, ".safetensors")
	return ok && len(h) == hashPrefixLen && isLowerHex(h)
}

// isLowerHex reports whether s is non-empty and all lowercase hex digits.
func isLowerHex(s string) bool {
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return s != ""
}

// parseRecord decodes and checks the record of checkpoint name read from
// path. It accepts unknown fields, so that a later version can add some.
func parseRecord(path, name string, b []byte) (*record, error) {
	bad := func(format string, args ...any) error {
		detail := fmt.Sprintf(format, args...)
		return fmt.Errorf("checkpoint: %s: %w: %s", path, ErrBadRecord, detail)
	}
	var r record
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&r); err != nil {
		return nil, bad("invalid JSON: %v", err)
	}
	if dec.More() {
		return nil, bad("invalid JSON: data after the top-level value")
	}
	if r.Format != formatName {
		return nil, bad("format %q, want %q", r.Format, formatName)
	}
	if r.Version != formatVersion {
		return nil, fmt.Errorf("checkpoint: %s: %w %d, want %d",
			path, ErrVersion, r.Version, formatVersion)
	}
	if err := checkRecordSum(path, r.RecordSHA256, b); err != nil {
		return nil, err
	}
	if len(r.SHA256) != 64 || !isLowerHex(r.SHA256) {
		return nil, bad("sha256 %q is not 64 lowercase hex digits", r.SHA256)
	}
	if r.Size < 0 {
		return nil, bad("size %d < 0", r.Size)
	}
	if want := tensorFileName(name, r.SHA256); r.TensorFile != want {
		return nil, bad("tensor_file %q, want %q", r.TensorFile, want)
	}

	seen := make(map[string]bool, len(r.Tensors))
	for i, t := range r.Tensors {
		switch {
		case t.Name == "" || !utf8.ValidString(t.Name):
			return nil, bad("tensor %d: empty or invalid name", i)
		case seen[t.Name]:
			return nil, bad("tensor %q listed twice", t.Name)
		case t.DType != dtypeF32:
			return nil, fmt.Errorf("checkpoint: %s: %w: tensor %q has dtype %q, want %q",
				path, ErrDType, t.Name, t.DType, dtypeF32)
		}
		if _, ok := numElements(t.Shape); !ok {
			return nil, bad("tensor %q: invalid shape %v", t.Name, t.Shape)
		}
		seen[t.Name] = true
	}
	return &r, nil
}

// recordSumKey precedes the record checksum in the file as marshalRecord
// writes it.
const recordSumKey = `"record_sha256": "`

// zeroSum is the placeholder for a sha256 while it is being computed.
var zeroSum = strings.Repeat("0", 64)

// marshalRecord returns the file content of r, sealed. It writes one line
// per tensor and indents the rest as json.MarshalIndent would, so that the
// record stays readable for models with many tensors.
func marshalRecord(r *record) ([]byte, error) {
	var buf bytes.Buffer
	put := func(key string, v any) error {
		b, err := json.MarshalIndent(v, "  ", "  ")
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		fmt.Fprintf(&buf, "  %q: %s,\n", key, b)
		return nil
	}
	buf.WriteString("{\n")
	for _, f := range []struct {
		key string
		v   any
	}{
		{"record_sha256", zeroSum},
		{"format", r.Format},
		{"version", r.Version},
		{"tensor_file", r.TensorFile},
		{"size", r.Size},
		{"sha256", r.SHA256},
	} {
		if err := put(f.key, f.v); err != nil {
			return nil, err
		}
	}
	buf.WriteString(`  "tensors": [`)
	for i, t := range r.Tensors {
		b, err := json.Marshal(t)
		if err != nil {
			return nil, fmt.Errorf("tensors: %w", err)
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n    ")
		buf.Write(b)
	}
	if len(r.Tensors) > 0 {
		buf.WriteString("\n  ")
	}
	buf.WriteString("],\n")
	meta := r.Meta
	if len(meta) == 0 {
		meta = json.RawMessage("null")
	}
	if err := put("meta", meta); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	b = append(b[:len(b)-2], "\n}\n"...) // no comma after the last field
	return sealRecord(b), nil
}

// sealRecord fills in the record checksum of b, a record written with
// zeroSum as its record_sha256: the sha256 of b is computed and written over
// the first zeroSum after recordSumKey. Like the checksum field of an IP
// header, this covers every byte of the file, whitespace included.
func sealRecord(b []byte) []byte {
	i := bytes.Index(b, []byte(recordSumKey+zeroSum))
	if i < 0 {
		panic("checkpoint: record checksum placeholder missing")
	}
	sum := sha256.Sum256(b)
	copy(b[i+len(recordSumKey):], hexSum(sum[:]))
	return b
}

// checkRecordSum checks the record checksum of b, read from path, whose
// parsed value is want.
func checkRecordSum(path, want string, b []byte) error {
	i := bytes.Index(b, []byte(recordSumKey))
	j := i + len(recordSumKey)
	if i < 0 || len(b) < j+64 || string(b[j:j+64]) != want || !isLowerHex(want) {
		return fmt.Errorf("checkpoint: %s: %w: record_sha256 missing or malformed",
			path, ErrBadRecord)
	}
	c := bytes.Clone(b)
	copy(c[j:], zeroSum)
	if sum := sha256.Sum256(c); hexSum(sum[:]) != want {
		return fmt.Errorf("checkpoint: %s: %w", path, ErrChecksum)
	}
	return nil
}

// hexSum returns the lowercase hex form of a sha256 sum.
func hexSum(sum []byte) string {
	return hex.EncodeToString(sum)
}
