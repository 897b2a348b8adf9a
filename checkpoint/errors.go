package checkpoint

import "errors"

// Sentinel errors. A returned error wraps at most one of them and prefixes
// it with "checkpoint: " and the file it concerns; the texts below are the
// part after that prefix.
var (
	// ErrBadName reports a checkpoint name that is empty or not a plain
	// file name.
	ErrBadName = errors.New("bad checkpoint name")
	// ErrInvalidTensor reports a tensor given to Save whose name is empty,
	// reserved or repeated, or whose data length does not fit its shape.
	ErrInvalidTensor = errors.New("invalid tensor")
	// ErrNotFound reports that the record or the tensor file is missing.
	ErrNotFound = errors.New("not found")
	// ErrBadRecord reports a record that is not valid JSON or does not
	// describe a checkpoint.
	ErrBadRecord = errors.New("bad record")
	// ErrVersion reports a record written by an unknown format version.
	ErrVersion = errors.New("unsupported format version")
	// ErrTruncated reports a tensor file shorter than its record says.
	ErrTruncated = errors.New("truncated")
	// ErrChecksum reports a tensor file whose size or sha256 differs from
	// the record.
	ErrChecksum = errors.New("sha256 mismatch: file is corrupt or was changed")
	// ErrBadTensorFile reports a tensor file that is not valid safetensors.
	ErrBadTensorFile = errors.New("bad safetensors file")
	// ErrMissingTensor reports a tensor that is expected but absent.
	ErrMissingTensor = errors.New("tensor missing")
	// ErrUnexpectedTensor reports a tensor that is present but not expected.
	ErrUnexpectedTensor = errors.New("unexpected tensor")
	// ErrShape reports a tensor whose shape differs from the expected one.
	ErrShape = errors.New("shape mismatch")
	// ErrDType reports a tensor whose element type is not float32.
	ErrDType = errors.New("wrong dtype")
)
