// Package export writes a trained energy network's inference procedure as
// one self-contained ONNX model (DESIGN §6): input "image" [N,3,S,S], RGB
// in [0,1]; output "mask" [N,1,S,S], foreground probabilities; the
// normalisation, the unary field and the T deterministic Langevin steps
// (σ0 = τ = 0) unrolled in the graph, the weights as initializers.
//
// The energy gradient ∂E/∂Y of each step is written by hand rather than by
// graphs.Grad: for the pairwise net it is a chain of Conv (with flipped
// kernels), Sigmoid and Mul, in the order of operations of package
// langevin's unroll, so that both round alike. That keeps the graph inside
// the portable op set (PortableOps) that the pure-Go
// runtime github.com/owulveryck/onnx-go runs: a portable export fixes the
// batch and materialises every broadcast constant at that size, since that
// runtime's Add, Sub and Mul want same-shaped tensors. A plain export keeps
// the batch dynamic and broadcasts.
//
// Left out on purpose: exporting the discriminator (it is a training
// device, not a deliverable), and clipping in portable graphs (no Clip op
// there; Build refuses it).
package export
