package report

import (
	"fmt"
	"math"
	"strings"
)

// markdown returns README.md: readmeMarker, the summary table, then what the
// figures mean, the runs per group and their commands, and a section per
// group with its table and the figures of each run.
func (g *generator) markdown() string {
	var b strings.Builder
	runs := make([]*Run, len(g.runs))
	ids := map[*Run]string{}
	reports := map[*Run]*runReport{}
	for i, rr := range g.runs {
		runs[i], ids[rr.run], reports[rr.run] = rr.run, rr.id, rr
	}
	groups := groupRuns(runs, g.command)

	b.WriteString(readmeMarker + "\n\n")
	fmt.Fprintf(&b, "# Study report\n\n%s in %s of objective, preset, settings and dataset, each run counted "+
		"with its best-on-val checkpoint.", plural(len(runs), "run"), plural(len(groups), "group"))
	if total, n := totalSeconds(runs); n > 0 {
		fmt.Fprintf(&b, " Together they recorded %s of training and evaluation (the sum of their wall times; "+
			"runs that shared the machine overlap in time).", duration(total))
	}
	b.WriteString("\n\n")
	b.WriteString("## Summary\n\n")
	summaryTable(&b, groups)
	b.WriteString("\nIoU is the foreground intersection over union at threshold 0.5, in percent: " +
		"\"mean\" averages it over the images of a split, \"global\" divides the split's summed " +
		"intersections by its summed unions. A figure reads mean ± sample standard deviation over " +
		"the runs of a row (its seeds); global IoU is their mean. Epochs are those completed; " +
		"wall time is the training time the run recorded, evaluation included.\n\n")
	for _, grp := range groups {
		fmt.Fprintf(&b, "- %s: %s, %s.\n", grp.Name(), plural(len(grp.Runs), "run"), seedPhrase(grp))
	}
	if len(g.skipped) > 0 {
		b.WriteString("\nSkipped, not runs:\n\n")
		for _, s := range g.skipped {
			fmt.Fprintf(&b, "- `%s`\n", s)
		}
	}

	b.WriteString("\n## Commands\n\n")
	if g.o.Command != nil {
		b.WriteString("The commands that reproduce the runs, rebuilt from their configs:\n\n```sh\n")
	} else {
		b.WriteString("The runs' configs, as the fields that differ from the defaults of their " +
			"objective and preset:\n\n```\n")
	}
	for _, grp := range groups {
		fmt.Fprintf(&b, "# %s\n", grp.Name())
		for _, r := range grp.Runs {
			if !r.HasConfig {
				fmt.Fprintf(&b, "# %s: config unknown\n", displayDir(r.Dir))
				continue
			}
			line := g.command(r.Config)
			if g.o.Command != nil {
				line += " -o " + shellQuote(displayDir(r.Dir))
			}
			b.WriteString(line + "\n")
		}
	}
	b.WriteString("```\n")

	for _, grp := range groups {
		fmt.Fprintf(&b, "\n## %s\n\n", grp.Name())
		groupTable(&b, grp, ids)
		for _, r := range grp.Runs {
			reports[r].markdown(&b)
		}
	}
	return b.String()
}

// markdown writes the section of one run: its facts, notes and figures.
func (rr *runReport) markdown(b *strings.Builder) {
	r, res := rr.run, rr.result
	fmt.Fprintf(b, "\n### %s\n\n", rr.id)
	fmt.Fprintf(b, "Directory `%s`", displayDir(r.Dir))
	if r.HasConfig {
		c := r.Config
		fmt.Fprintf(b, "; objective %s, %s, data `%s` at %d×%d, seed %d, batch %d, T = %d.",
			c.Objective, presetName(c.Preset), datasetName(c.Data), c.Size, c.Size, c.Seed, c.Batch,
			c.Langevin.Steps)
	} else {
		b.WriteString(".")
	}
	if res.Epochs > 0 {
		fmt.Fprintf(b, " %s completed", plural(res.Epochs, "epoch"))
		if r.Unfinished() {
			fmt.Fprintf(b, " of %d: unfinished", r.Config.Epochs)
		}
		b.WriteString(".")
	}
	if res.BestEpoch > 0 {
		fmt.Fprintf(b, " Best val mean IoU %s%% at epoch %d (test %s%%).", pct(res.Val.Mean), res.BestEpoch,
			pct(res.Test.Mean))
	}
	if !r.HasModel && !r.Unfinished() {
		b.WriteString(" No exported model.onnx.")
	}
	b.WriteString("\n")
	if len(rr.notes) > 0 {
		b.WriteString("\n")
		for _, n := range rr.notes {
			fmt.Fprintf(b, "- %s\n", mdEscape(n))
		}
	}
	for _, f := range rr.figures {
		fmt.Fprintf(b, "\n![%s](%s)\n\n*%s*\n", altText(f.path), f.path, mdEscape(f.caption))
	}
}

// mdEscape escapes the characters that would start emphasis or code in
// running text.
func mdEscape(s string) string {
	return strings.NewReplacer("*", `\*`, "`", "\\`", "_", `\_`).Replace(s)
}

// altText names a figure by its file, e.g. "landscape-ce-epoch001".
func altText(p string) string {
	p = p[strings.LastIndexByte(p, '/')+1:]
	return strings.TrimSuffix(p, ".png")
}

// anchor returns the GitHub anchor of a heading made of letters, digits,
// '_' and '-', as run IDs are.
func anchor(id string) string { return strings.ToLower(id) }

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// seedPhrase says which seeds a group ran, e.g. "seeds 1, 2 and 3".
func seedPhrase(g Group) string {
	seeds, unknown := g.Seeds()
	if len(seeds) == 0 {
		return "seed unknown"
	}
	var parts []string
	for _, s := range seeds {
		parts = append(parts, fmt.Sprint(s))
	}
	if unknown > 0 {
		parts = append(parts, fmt.Sprintf("%d run(s) of unknown seed", unknown))
	}
	if len(seeds) == 1 && unknown == 0 {
		return "seed " + parts[0]
	}
	s := "seeds "
	if len(parts) > 1 {
		s += strings.Join(parts[:len(parts)-1], ", ") + " and "
	}
	return s + parts[len(parts)-1]
}

// shellQuote quotes s for a POSIX shell when it holds anything but safe
// characters.
func shellQuote(s string) string {
	safe := s != ""
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./=:,+@%", c)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// totalSeconds sums the wall times the runs recorded, and counts the runs
// that recorded one.
func totalSeconds(runs []*Run) (total float64, n int) {
	for _, r := range runs {
		if sec := r.Result().Seconds; !math.IsNaN(sec) {
			total += sec
			n++
		}
	}
	return total, n
}
