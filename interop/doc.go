// Package interop checks egan-ort's exported ONNX models (DESIGN §6) in the
// runtimes they are meant for outside egan-ort. Its tests train a short run
// on the 32×32 Weizmann horses, export it plain (dynamic batch) and portable
// (fixed batch, PortableOps only), and require of the files:
//
//   - ONNX Runtime from Go gives egan-ort's own masks within 1e-5;
//   - the official ONNX checker (scripts/check-onnx.py, Debian python3-onnx)
//     accepts them, with full checking and strict shape inference;
//   - onnxruntime-node (scripts/node/run-model.js) gives the masks within
//     1e-5;
//   - the pure-Go runtime github.com/owulveryck/onnx-go runs the portable
//     model (the command in interop/onnxgo, a module of its own) and gives
//     the masks within 1e-4.
//
// "Same masks" means the probabilities agree within the tolerance, pixel
// by pixel, against orchestrator.Model.Predict on the same images.
//
// The tests fail, never skip, when a runtime is missing: CI installs all of
// them (make test runs scripts/install-ort.sh and scripts/install-node-ort.sh;
// .ci/run installs python3-onnx). The checker runs under /usr/bin/python3,
// where Debian installs onnx, unless $ONNX_CHECK_PYTHON names another
// interpreter.
//
// The package holds no code of its own; it exists for its tests.
package interop
