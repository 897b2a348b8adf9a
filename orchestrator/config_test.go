package orchestrator

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// TestStudyScriptEpochs: scripts/study.sh passes each preset's epochs
// explicitly (so that it extends runs of an earlier, shorter default); its
// table must say what the defaults and the paper preset say.
func TestStudyScriptEpochs(t *testing.T) {
	b, err := os.ReadFile("../scripts/study.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`declare -A epochs=\(\[tuned\]=(\d+) \[paper\]=(\d+)\)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("scripts/study.sh: no line `declare -A epochs=([tuned]=N [paper]=M)`")
	}
	paper := DefaultConfig("wgan-gp")
	if err := paper.ApplyPreset("paper"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		preset string
		script []byte
		want   int
	}{{"tuned", m[1], DefaultConfig("wgan-gp").Epochs}, {"paper", m[2], paper.Epochs}} {
		if got, _ := strconv.Atoi(string(c.script)); got != c.want {
			t.Errorf("scripts/study.sh gives %s %d epochs; the binary's %s config has %d", c.preset, got, c.preset, c.want)
		}
	}
}
