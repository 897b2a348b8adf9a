// Package ort is egan-ort's thin layer over ONNX Runtime (ORT), reached
// through github.com/yalue/onnxruntime_go.
//
// It finds ORT's shared library (Init), creates the process-wide ORT
// environment once, and makes sessions from in-memory model bytes with the
// options a training run cares about: the execution provider (CPU, or CUDA
// where its provider libraries are installed), the number of intra-op threads
// and the graph optimisation level.
//
// Tensors are onnxruntime_go tensors over Go-owned float32 slices: ORT reads
// and writes the slice in place, so parameters updated by Go's optimiser are
// seen by the next session call without a copy. The Go slice must outlive
// the tensor; Destroy the tensor before dropping the slice.
//
// Left out on purpose: ORT's training API (gone from the Go binding and from
// standard ORT builds; egan-ort derives its gradient graphs itself), IO
// bindings to device memory, and every provider but CPU and CUDA.
package ort
