// Package onnxpb holds Go types for ONNX's protobuf schema (ModelProto,
// GraphProto, NodeProto, TensorProto, ...), generated from the onnx.proto
// that Debian's libonnx-dev ships (ONNX 1.12, IR version 8).
//
// The proto package is renamed to eganort.onnx, so these types register in
// the protobuf registry under names of this project's own and never clash with
// another Go package that embeds ONNX's schema. The wire format is unchanged:
// the bytes these types marshal are ordinary .onnx files.
//
// The generated file is committed so that a plain go build needs no protoc;
// scripts/gen-onnxpb.sh reproduces it.
package onnxpb

//go:generate ../scripts/gen-onnxpb.sh
