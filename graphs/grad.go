package graphs

import (
	"fmt"
	"slices"
)

// gradRule returns the cotangents of a node's inputs given the cotangent gy
// of its output, for the inputs whose need is set (nil elsewhere).
type gradRule func(g *Graph, n *Node, gy *Value, need []bool) []*Value

var rules = map[string]gradRule{}

// Grad appends to g the reverse-mode gradient of ⟨seed, y⟩ with respect to
// each value of wrt and returns them, in order. A nil seed means ones: the
// gradient of the sum of y's elements. A value of wrt that y does not depend
// on gets zeros. New nodes are named under scope ("dE_dY", say).
//
// Grad panics if the seed's shape differs from y's, if a value of wrt is not
// a float, or if a node on the path has no gradient rule.
func (g *Graph) Grad(scope string, y, seed *Value, wrt ...*Value) []*Value {
	if seed == nil {
		seed = g.OnesLike(y)
	}
	if !slices.Equal(seed.Shape, y.Shape) {
		panic(fmt.Sprintf("graphs: Grad: seed %s for output %s", fmtShape(seed.Shape), fmtShape(y.Shape)))
	}
	for _, w := range wrt {
		if !w.differentiable() {
			panic(fmt.Sprintf("graphs: Grad with respect to %s (%v)", w.name, w.DType))
		}
	}
	old := g.SetScope(scope)
	defer g.SetScope(old)

	// Nodes whose output depends on wrt, in creation order.
	active := g.dependents(wrt)
	// Of those, the ones y depends on; walk them backwards.
	onPath := g.ancestors(y, active)

	grads := map[*Value]*Value{y: seed}
	nodes := slices.Clone(g.nodes)
	for i := len(nodes) - 1; i >= 0; i-- {
		n := nodes[i]
		out := n.Outputs[0]
		gy := grads[out]
		if gy == nil || !onPath[n] {
			continue
		}
		rule := rules[n.Op]
		if rule == nil {
			panic(fmt.Sprintf("graphs: Grad: no gradient rule for %s", n.Op))
		}
		need := make([]bool, len(n.Inputs))
		for j, in := range n.Inputs {
			need[j] = in.differentiable() && active.has(in)
		}
		for j, gin := range rule(g, n, gy, need) {
			if !need[j] || gin == nil {
				continue
			}
			in := n.Inputs[j]
			if prev := grads[in]; prev != nil {
				gin = g.Add(prev, gin)
			}
			grads[in] = gin
		}
	}

	out := make([]*Value, len(wrt))
	for i, w := range wrt {
		out[i] = grads[w]
		if out[i] == nil {
			out[i] = g.ZerosLike(w)
		}
	}
	return out
}

// valueSet is a set of values.
type valueSet map[*Value]bool

func (s valueSet) has(v *Value) bool { return s[v] }

// dependents returns wrt and every value computed from them by a
// differentiable path.
func (g *Graph) dependents(wrt []*Value) valueSet {
	dep := valueSet{}
	for _, w := range wrt {
		dep[w] = true
	}
	for _, n := range g.nodes {
		for _, in := range n.Inputs {
			if dep[in] && in.differentiable() {
				for _, o := range n.Outputs {
					if o.differentiable() {
						dep[o] = true
					}
				}
				break
			}
		}
	}
	return dep
}

// ancestors returns the nodes in active that y depends on.
func (g *Graph) ancestors(y *Value, active valueSet) map[*Node]bool {
	on := map[*Node]bool{}
	stack := []*Value{y}
	seen := valueSet{}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[v] || v.node == nil || !active[v] {
			continue
		}
		seen[v] = true
		on[v.node] = true
		stack = append(stack, v.node.Inputs...)
	}
	return on
}
