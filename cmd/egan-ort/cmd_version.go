package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/egan-ort/egan-ort/ort"
)

// version is egan-ort's version. Builds set it with
// -ldflags "-X main.version=..."; when it is empty, buildVersion derives one.
var version string

var cmdVersion = &command{
	name:    "version",
	summary: "print the versions of egan-ort, Go and ONNX Runtime",
	help: `
Version prints egan-ort's version, the Go version it was built with, the
onnxruntime_go binding, and the path and version of the ONNX Runtime
library it loads (found as --ort-lib says). It then opens a small session on
--device to show that the execution provider works. When the library cannot
be loaded or the device does not work, it prints what it knows and the
error, and exits 1. With --json it prints one JSON object.`,
	ort: true,
	options: func(fs *pflag.FlagSet) options {
		return &versionOptions{}
	},
}

// versionOptions are version's flags: none of its own.
type versionOptions struct{}

// versionInfo is what version prints; the JSON names are stable for scripts.
type versionInfo struct {
	EganORT  string `json:"egan_ort"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
	Binding  string `json:"onnxruntime_go"`
	ORT      string `json:"onnxruntime,omitempty"`
	Library  string `json:"ort_library,omitempty"`
	Device   string `json:"device"`
	DeviceOK bool   `json:"device_ok"`
	Error    string `json:"error,omitempty"`
}

func (o *versionOptions) check(_ *globalOptions, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected argument %q (version takes flags only)", args[0])
	}
	return nil
}

func (o *versionOptions) run(ctx context.Context, e *env, args []string) error {
	v := versionInfo{
		EganORT:  buildVersion(),
		Go:       runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH,
		Binding:  depVersion("github.com/yalue/onnxruntime_go"),
		Device:   e.global.Device,
	}
	opts, err := e.initORT()
	if err == nil {
		v.ORT, v.Library = ort.Version(), ort.LibraryPath()
		err = probeDevice(opts)
		v.DeviceOK = err == nil
	}
	if err != nil {
		v.Error = err.Error()
	}

	if e.global.JSON {
		if werr := json.NewEncoder(e.stdout).Encode(v); werr != nil {
			return fmt.Errorf("write version: %w", werr)
		}
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "egan-ort\t%s\n", v.EganORT)
	fmt.Fprintf(tw, "go\t%s %s\n", v.Go, v.Platform)
	fmt.Fprintf(tw, "onnxruntime_go\t%s\n", v.Binding)
	fmt.Fprintf(tw, "onnxruntime\t%s\n", orString(v.ORT, "unavailable"))
	if v.Library != "" {
		fmt.Fprintf(tw, "library\t%s\n", v.Library)
		fmt.Fprintf(tw, "device\t%s (%s)\n", v.Device, map[bool]string{true: "works", false: "fails"}[v.DeviceOK])
	}
	if werr := tw.Flush(); werr != nil {
		return fmt.Errorf("write version: %w", werr)
	}
	return err
}

// buildVersion returns version when the build set it, else the module
// version (go install ...@v1.2.3), else the VCS revision the build recorded,
// else "dev".
func buildVersion() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision":
			rev = s.Value[:min(12, len(s.Value))]
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "-dirty"
		}
	}
	if rev != "" {
		return rev + dirty
	}
	return "dev"
}

// depVersion returns the version of the module path linked into the binary,
// or "unknown".
func depVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "unknown"
}

func orString(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
