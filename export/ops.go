package export

import "github.com/egan-ort/egan-ort/onnxpb"

// OpHistogram counts the nodes of each op type in a model.
func OpHistogram(m *onnxpb.ModelProto) map[string]int {
	h := map[string]int{}
	for _, n := range m.Graph.Node {
		h[n.GetOpType()]++
	}
	return h
}
