package main

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"

	"github.com/egan-ort/egan-ort/data"
	"github.com/egan-ort/egan-ort/export"
	"github.com/egan-ort/egan-ort/orchestrator"
)

// builtinModel is the segmenter that infer uses on a fresh machine, when no
// model is named and no run exists: the best model of the project's runs on
// the 32x32 Weizmann split, exported. Its metadata_props say how it was
// trained (command, commit, val and test IoU); infer logs them when it uses
// it.
//
//go:embed default-model.onnx
var builtinModel []byte

// builtinModelName names the built-in model in logs and errors.
const builtinModelName = "built-in model"

// builtinSummary describes how the built-in model was trained.
func builtinSummary() string {
	info, err := export.Parse(builtinModelName, builtinModel)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	m := info.Metadata
	return fmt.Sprintf("%s, %s epochs on %s (val mean IoU %s, test mean IoU %s; commit %s): %s",
		m["objective"], m["epoch"], data.DescribeLayout(m["dataset"]), m["val_mean_iou"], m["test_mean_iou"], m["commit"],
		m["command"])
}

// hasRun reports whether root holds at least one run with a last
// checkpoint.
func hasRun(root string) bool {
	matches, _ := filepath.Glob(filepath.Join(root, "*", orchestrator.LastCheckpoint+".json"))
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}
