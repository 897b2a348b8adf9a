// Package checkpoint implements a small crash-safe store for named float32
// tensors together with JSON metadata: the parameters and Adam moments of a
// training run, plus its configuration, epoch, step and RNG state.
//
// A checkpoint NAME in directory DIR is two files:
//
//	DIR/NAME.json              the commit record: its own sha256, format,
//	                           version, tensor file name, that file's size
//	                           and sha256, the tensor names, dtypes and
//	                           shapes in saved order, and the caller's
//	                           metadata under "meta"
//	DIR/NAME.<h>.safetensors   the tensors, in the safetensors format
//
// where <h> is the first 16 hex digits of the sha256 of the tensor file.
// The tensor file is read and written by github.com/nlpodyssey/safetensors;
// it is a plain safetensors file (dtype F32, little-endian, C order) that
// other tools can open. Values round-trip bit for bit, NaN payloads
// included. The record's own checksum, record_sha256, is the sha256 of the
// record file with those 64 digits read as zeros, so it covers every byte
// of the file; the record must therefore not be edited by hand. ReadMeta
// reads the metadata from the record alone.
//
// Save commits in this order, each file written under a temporary name in
// DIR, fsynced, renamed, and the directory fsynced after each rename:
//
//  1. the tensor file, renamed to NAME.<h>.safetensors;
//  2. the record, renamed over NAME.json;
//  3. only then, the tensor file of the previous checkpoint and any
//     temporary files an interrupted Save left behind are removed.
//
// The rename of NAME.json is the commit. Because the new tensor file gets a
// name of its own, the previous record never points at a file that is being
// replaced: a crash at any moment leaves NAME.json naming either the previous
// complete checkpoint or the new complete one. A fixed tensor file name
// (NAME.safetensors) cannot give that guarantee, since renaming the new tensor
// file over the old one before the record is renamed breaks the old record.
// Load trusts nothing: it checks the record, the size and sha256 of the tensor
// file, and every tensor's name, dtype and shape against the record.
//
// Every error a function returns starts with "checkpoint: ", names the file
// it concerns (Match has none), and wraps one of the sentinel errors below where one applies,
// so callers can test it with errors.Is. A bad argument to Save is an error,
// not a panic: a training loop should not lose its state to a typo.
//
// Left out on purpose: dtypes other than float32 (the Go side owns only
// float32 buffers); streaming or memory-mapped loads (Load reads the whole
// tensor file, so it holds about twice the tensor bytes while decoding);
// keeping the last n checkpoints (use one NAME per step and remove old ones);
// concurrent Saves of the same NAME (they would remove each other's files);
// and a guarantee for the directory entry of DIR itself when Save had to
// create DIR.
package checkpoint
