#!/usr/bin/env python3
"""check-onnx.py runs the official ONNX checker on exported models.

    /usr/bin/python3 scripts/check-onnx.py MODEL.onnx [MODEL.onnx ...]

For each model it runs onnx.checker.check_model with full_check (which adds
strict shape inference) and onnx.shape_inference.infer_shapes with
check_type and strict_mode, then prints the IR version, the opsets, the
inputs and outputs with their shapes, the metadata keys and a histogram of
the ops. It exits 1 when a model fails, 2 on bad usage.

It needs the onnx package (Debian: apt-get install python3-onnx, which
installs into /usr/bin/python3).
"""

import collections
import sys

import onnx


def shape(value_info):
    dims = value_info.type.tensor_type.shape.dim
    return "[" + ",".join(d.dim_param or str(d.dim_value) for d in dims) + "]"


def check(path):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)

    opsets = ", ".join(f"{o.domain or 'ai.onnx'} {o.version}" for o in model.opset_import)
    print(f"{path}: ok (onnx {onnx.__version__})")
    print(f"  ir_version {model.ir_version}; opset {opsets}; producer {model.producer_name} {model.producer_version}")
    for kind, values in (("input", inferred.graph.input), ("output", inferred.graph.output)):
        for v in values:
            print(f"  {kind} {v.name} {shape(v)}")
    print(f"  {len(inferred.graph.value_info)} intermediate values with inferred shapes")
    print("  metadata: " + ", ".join(p.key for p in model.metadata_props))
    ops = collections.Counter(n.op_type for n in model.graph.node)
    print("  ops: " + ", ".join(f"{op} x{n}" for op, n in sorted(ops.items())))


def main(argv):
    if not argv:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    failed = 0
    for path in argv:
        try:
            check(path)
        except Exception as e:  # the checker raises several exception types
            print(f"{path}: FAILED: {type(e).__name__}: {e}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
