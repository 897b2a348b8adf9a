package checkpoint

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// failWriter passes through its first n bytes and then fails with err,
// as a full disk would.
type failWriter struct {
	w   io.Writer
	n   int
	err error
}

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) <= f.n {
		f.n -= len(p)
		return f.w.Write(p)
	}
	k, _ := f.w.Write(p[:f.n])
	f.n = 0
	return k, f.err
}

// makeReadOnly makes dir refuse new files and returns a function that
// undoes it. Root ignores permission bits, so as root it sets the
// immutable attribute with chattr instead, which binds root too; it skips
// the test where neither works (for example chattr on tmpfs, or without
// CAP_LINUX_IMMUTABLE).
func makeReadOnly(t *testing.T, dir string) func() {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		return func() { os.Chmod(dir, 0o755) }
	}
	out, err := exec.Command("chattr", "+i", dir).CombinedOutput()
	if err != nil {
		t.Skipf("running as root and chattr +i failed (%v: %s); "+
			"the disk-full cases cover write errors", err, strings.TrimSpace(string(out)))
	}
	undo := func() { exec.Command("chattr", "-i", dir).Run() }
	t.Cleanup(undo) // also when a check below fails
	return undo
}

func TestSaveFailureKeepsPrevious(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string) (saveDir string, undo func())
		hook    func(kind string, w io.Writer) io.Writer
		wantErr error
		wantMsg string
	}{
		{"read-only directory", func(t *testing.T, dir string) (string, func()) {
			return dir, makeReadOnly(t, dir)
		}, nil, fs.ErrPermission, "write tensor file: open "},
		{"disk full in tensor file", nil, func(kind string, w io.Writer) io.Writer {
			if kind != "tensor" {
				return w
			}
			return &failWriter{w: w, n: 100, err: syscall.ENOSPC}
		}, syscall.ENOSPC, "write tensor file: "},
		{"disk full in record", nil, func(kind string, w io.Writer) io.Writer {
			if kind != "record" {
				return w
			}
			return &failWriter{w: w, n: 10, err: syscall.ENOSPC}
		}, syscall.ENOSPC, "write record: "},
		{"directory path is a file", func(t *testing.T, dir string) (string, func()) {
			return filepath.Join(dir, "last.json"), func() {}
		}, nil, syscall.ENOTDIR, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			old := modelTensors(1)
			mustSave(t, dir, "last", old, testMeta{Step: 1})
			before := listDir(t, dir)

			saveDir, undo := dir, func() {}
			if tt.setup != nil {
				saveDir, undo = tt.setup(t, dir)
			}
			testHookWriter = tt.hook
			err := Save(saveDir, "last", modelTensors(2), testMeta{Step: 2})
			testHookWriter = nil
			undo()

			if err == nil {
				t.Fatal("Save succeeded")
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error %q is not %v", err, tt.wantErr)
			}
			wantPrefix := "checkpoint: save " + filepath.Join(saveDir, "last") + ": "
			msg := err.Error()
			if !strings.HasPrefix(msg, wantPrefix) || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("error %q, want prefix %q and %q", msg, wantPrefix, tt.wantMsg)
			}
			if after := listDir(t, dir); !slices.Equal(after, before) {
				t.Errorf("files changed:\n got %q\nwant %q", after, before)
			}
			var m testMeta
			got, err := Load(dir, "last", &m)
			if err != nil {
				t.Fatalf("previous checkpoint: %v", err)
			}
			checkTensors(t, got, old)
			if m.Step != 1 {
				t.Errorf("previous checkpoint has step %d, want 1", m.Step)
			}
		})
	}
}

// Environment of the child process of TestCrash.
const (
	crashDirEnv  = "CHECKPOINT_TEST_CRASH_DIR"
	crashStepEnv = "CHECKPOINT_TEST_CRASH_STEP"
	crashStopped = "stopped"
)

// crashTensors is the checkpoint the child process saves: large enough
// that its tensor file takes several writes.
func crashTensors() []Tensor {
	return []Tensor{
		{Name: "energy.conv1.weight", Shape: []int{256, 1024}, Data: ramp(256*1024, 3)},
		{Name: "energy.conv1.bias", Shape: []int{4}, Data: ramp(4, -3)},
	}
}

// TestCrashHelper is the child process of TestCrash: it saves crashTensors
// and, on reaching the step named in its environment, says so on stdout
// and waits to be killed.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("runs only as the child of TestCrash")
	}
	at := os.Getenv(crashStepEnv)
	stop := func() {
		fmt.Println(crashStopped)
		time.Sleep(time.Minute)
		os.Exit(3) // not killed: the parent has given up
	}
	testHookStep = func(s string) {
		if s == at {
			stop()
		}
	}
	testHookWriter = func(kind string, w io.Writer) io.Writer {
		if kind != "tensor" || at != "tensor-writing" {
			return w
		}
		return &stopWriter{w: w, stop: stop}
	}
	err := Save(dir, "last", crashTensors(), testMeta{Step: 2})
	fmt.Println("finished:", err)
}

// stopWriter calls stop after its first write has reached the file.
type stopWriter struct {
	w    io.Writer
	stop func()
}

func (s *stopWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	s.stop()
	return n, err
}

// TestCrash kills a process in the middle of a Save, at each step of the
// protocol, and checks that a complete checkpoint survives: the previous
// one before the record is renamed, the new one after. The next Save then
// removes what the killed one left behind.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	tests := []struct {
		step     string
		wantStep int64 // the meta step of the checkpoint that survives
	}{
		{"tensor-writing", 1},
		{"tensor-synced", 1},
		{"tensor-renamed", 1},
		{"record-synced", 1},
		{"record-renamed", 2},
	}
	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			dir := t.TempDir()
			old := modelTensors(1)
			mustSave(t, dir, "last", old, testMeta{Step: 1})
			killDuringSave(t, dir, tt.step)
			if files := listDir(t, dir); len(files) <= 2 {
				t.Fatalf("the killed Save left no trace: %q", files)
			}

			var m testMeta
			got, err := Load(dir, "last", &m)
			if err != nil {
				t.Fatalf("after the crash: %v (files %q)", err, listDir(t, dir))
			}
			if m.Step != tt.wantStep {
				t.Fatalf("after the crash: step %d, want %d", m.Step, tt.wantStep)
			}
			want := old
			if tt.wantStep == 2 {
				want = crashTensors()
			}
			checkTensors(t, got, want)

			mustSave(t, dir, "last", modelTensors(3), testMeta{Step: 3})
			r := readRec(t, dir, "last")
			files := []string{"last.json", r.TensorFile}
			slices.Sort(files)
			if got := listDir(t, dir); !slices.Equal(got, files) {
				t.Errorf("files after the next Save: %q, want %q", got, files)
			}
		})
	}
}

// killDuringSave runs TestCrashHelper in a child process that saves into
// dir, and kills it when it reports that it has reached step.
func killDuringSave(t *testing.T, dir, step string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashStepEnv+"="+step)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()

	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("child ended without reaching %s", step)
			}
			if line == crashStopped {
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				go func() {
					for range lines {
					}
				}()
				return
			}
			if strings.HasPrefix(line, "finished") {
				t.Fatalf("child did not stop at %s: %s", step, line)
			}
		case <-timeout:
			t.Fatalf("child did not reach %s in 30 s", step)
		}
	}
}
