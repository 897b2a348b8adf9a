package report

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/egan-ort/egan-ort/orchestrator"
)

// command returns the line that reproduces a run of c: o.Command's, else
// the config fields that differ from the defaults of c's objective and
// preset.
func (g *generator) command(c orchestrator.Config) string {
	if g.o.Command != nil {
		return g.o.Command(c)
	}
	return ConfigDiff(c)
}

// ConfigDiff describes c by the fields (as dotted JSON keys) whose values
// differ from orchestrator.DefaultConfig of its objective with its preset
// applied, e.g. "objective=ce seed=2 size=16 energy.channels=8".
func ConfigDiff(c orchestrator.Config) string {
	base := orchestrator.DefaultConfig(c.Objective)
	if err := base.ApplyPreset(c.Preset); err != nil {
		base = orchestrator.DefaultConfig(c.Objective) // an unknown preset: every field shows
	}
	want, have := flatten(base), flatten(c)
	parts := []string{"objective=" + c.Objective}
	if c.Preset != "" {
		parts = append(parts, "preset="+c.Preset)
	}
	for _, k := range slices.Sorted(maps.Keys(have)) {
		if k != "objective" && k != "preset" && have[k] != want[k] {
			parts = append(parts, k+"="+have[k])
		}
	}
	return strings.Join(parts, " ")
}

// flatten returns the JSON fields of v as dotted keys and their values in
// JSON.
func flatten(v any) map[string]string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("report: flatten: %v", err)) // a Config always marshals
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(fmt.Sprintf("report: flatten: %v", err))
	}
	out := map[string]string{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			key := prefix + strings.ToLower(k)
			if sub, ok := v.(map[string]any); ok {
				walk(key+".", sub)
				continue
			}
			b, _ := json.Marshal(v)
			out[key] = string(b)
		}
	}
	walk("", m)
	return out
}
