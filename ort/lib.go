package ort

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	ortgo "github.com/yalue/onnxruntime_go"
)

// EnvLibraryPath is the environment variable that names ORT's shared library
// when no path is given explicitly.
const EnvLibraryPath = "ONNXRUNTIME_SHARED_LIBRARY_PATH"

// libName is the file that scripts/install-ort.sh installs.
const libName = "libonnxruntime.so.1"

// InstallHint is the command that installs ORT's library into the repository.
const InstallHint = "make setup (or scripts/install-ort.sh)"

// ErrLibraryNotFound is returned by Init when no candidate path holds ORT's
// shared library.
var ErrLibraryNotFound = errors.New("ort: ONNX Runtime shared library not found")

var (
	initMu   sync.Mutex
	initPath string // the library Init loaded; "" before
)

// Candidates returns, in the order Init tries them, the paths where ORT's
// library may be. A path the user chose, explicit (the --ort-lib flag)
// when non-empty, else $ONNXRUNTIME_SHARED_LIBRARY_PATH when set, is the
// only candidate, a directory standing for the library file inside it:
// falling back silently would hide a typo. Without one they are
// third_party/ort/ in the repository that holds the working directory or
// the executable, then beside the executable.
func Candidates(explicit string) []string {
	if explicit == "" {
		explicit = os.Getenv(EnvLibraryPath)
	}
	if explicit != "" {
		if st, err := os.Stat(explicit); err == nil && st.IsDir() {
			explicit = filepath.Join(explicit, libName)
		}
		return []string{explicit}
	}
	var paths []string
	add := func(p string) {
		for _, q := range paths {
			if q == p {
				return
			}
		}
		paths = append(paths, p)
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			starts = append(starts, filepath.Dir(exe))
		}
	}
	for _, dir := range starts {
		for d := dir; ; d = filepath.Dir(d) {
			add(filepath.Join(d, "third_party", "ort", libName))
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	for _, dir := range starts[min(1, len(starts)):] {
		add(filepath.Join(dir, libName))
	}
	return paths
}

// Find returns the first of Candidates(explicit) that is a file, made
// absolute so that the dynamic loader opens that file and does not search
// its own path for a bare name. Find loads nothing; when no candidate
// exists it returns an error wrapping ErrLibraryNotFound that lists the
// paths tried, or says that $ONNXRUNTIME_SHARED_LIBRARY_PATH names
// nothing, and gives the install command.
func Find(explicit string) (string, error) {
	cands := Candidates(explicit)
	for _, p := range cands {
		st, err := os.Stat(p)
		if err != nil || st.IsDir() {
			continue
		}
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		return p, nil
	}
	if env := os.Getenv(EnvLibraryPath); explicit == "" && env != "" {
		what := "which does not exist"
		if _, err := os.Stat(env); err == nil {
			what = "which holds no " + libName
		}
		return "", fmt.Errorf("%w: $%s names %s, %s; correct or unset it, or install the library with: %s",
			ErrLibraryNotFound, EnvLibraryPath, env, what, InstallHint)
	}
	return "", fmt.Errorf("%w; tried:\n  %s\ninstall it with: %s, or name it with --ort-lib or $%s",
		ErrLibraryNotFound, strings.Join(cands, "\n  "), InstallHint, EnvLibraryPath)
}

// Init loads ORT's shared library and creates the ORT environment. explicit
// is the path given by the user (--ort-lib), or "" to search Candidates (see
// Find). Init is safe to call more than once; calls after the first
// successful one return the path loaded first and ignore explicit. A failed
// Init leaves nothing loaded, so a later call may try another path.
func Init(explicit string) (string, error) {
	initMu.Lock()
	defer initMu.Unlock()
	if initPath != "" {
		return initPath, nil
	}
	path, err := Find(explicit)
	if err != nil {
		return "", err
	}
	ortgo.SetSharedLibraryPath(path)
	if err := ortgo.InitializeEnvironment(ortgo.WithLogLevelError()); err != nil {
		return "", fmt.Errorf("ort: load %s: %w", path, err)
	}
	initPath = path
	return path, nil
}

// LibraryPath returns the path of the library that Init loaded, or "".
func LibraryPath() string {
	initMu.Lock()
	defer initMu.Unlock()
	return initPath
}

// Version returns the version string that the loaded ORT library reports.
// It panics if Init has not succeeded (a programmer error).
func Version() string {
	if LibraryPath() == "" {
		panic("ort: Version called before Init")
	}
	return ortgo.GetVersion()
}

// DefaultThreads is the default number of intra-op threads: one per core.
func DefaultThreads() int { return runtime.NumCPU() }
