// Package graphs builds ONNX graphs in Go and differentiates them
// symbolically, to any order.
//
// A Graph is built op by op. Every op infers the static shape of its result
// when it is added; only the batch dimension may be dynamic, written -1 and
// serialised as the symbolic dimension "N". A shape error is a programmer
// error: the builder panics with a message that names the op and the shapes.
//
// # Differentiation
//
// Grad(y, seed, wrt...) appends to the same graph the reverse-mode gradient
// of ⟨seed, y⟩ with respect to each value of wrt. It walks the nodes that lie
// on a path from wrt to y in reverse creation order (creation order is a
// topological order) and applies each op's vector-Jacobian product rule,
// summing the cotangents of values used more than once. Every rule emits ops
// of this package that have rules themselves, so Grad applies again to a
// graph that already holds gradients: Hessian-vector products
// ∂⟨∇ₓf, v⟩/∂θ and gradient penalties ∂(‖∇ₓD‖−1)²/∂φ are two Grad calls.
//
// Convolutions are three bilinear ops that close under differentiation.
// With C(x, w) the convolution, CIG(u, w) = Cₓᵀu its input gradient and
// CWG(x, u) = C_wᵀu its weight gradient, for a cotangent g:
//
//	C(x, w):    ∂x = CIG(g, w)   ∂w = CWG(x, g)
//	CIG(u, w):  ∂u = C(g, w)     ∂w = CWG(g, u)
//	CWG(x, u):  ∂x = CIG(u, g)   ∂u = C(x, g)
//
// They are lowered to ONNX only at serialisation: C to Conv; CIG to a Conv
// with the kernel flipped and its channel axes swapped at stride 1, else to
// ConvTranspose with output_padding (never output_shape, which ORT resolves
// wrongly for asymmetric pads); CWG, at stride 1, to one MatMul per kernel
// tap contracting the batch and the pixels, and otherwise to a Conv over the
// batch axis of Transpose(x) and Transpose(u) with dilations set to the
// forward stride, sliced to the kernel size (Graph.WeightGrad chooses).
//
// Non-differentiable values (Shape's result, comparisons, integer constants)
// stop the gradient. Relu and LeakyRelu use a mask Cast(x > 0) whose own
// derivative is zero, which is exact almost everywhere.
//
// # Serialisation
//
// Model lowers the graph to an ONNX ModelProto (opset 17, IR version 8) that
// holds only the nodes the outputs need. Names are given by counters in
// creation order and prefixed by the scope that made the node ("fwd", or the
// name passed to Grad), so a gradient reads as such in Netron. Bytes marshals
// deterministically: the same definition gives the same bytes and Hash
// identifies the graph.
//
// # Supported ops
//
// Conv and ConvTranspose (strides, pads, dilations, group 1), Add, Sub, Mul,
// Div (NumPy broadcasting), Neg, Exp, Log, Sqrt, Pow with a constant
// exponent, Sigmoid, Softplus, Relu, LeakyRelu, Tanh, ReduceSum, ReduceMean,
// Reshape, Flatten, Transpose, Concat, Slice (step 1), Reverse (a Slice of
// step −1), Pad (zeros), MatMul
// (2-D), Gemm (no transposes), Clip, Expand, Shape, Where and Cast.
//
// Left out on purpose: grouped convolutions, pooling, batch normalisation
// (the discriminator avoids it, as WGAN-GP needs per-sample gradients),
// integer arithmetic, control flow, and more than one dynamic dimension.
// ReduceMean over the dynamic batch axis panics: its count is not static.
package graphs
