package orchestrator

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/egan-ort/egan-ort/checkpoint"
	"github.com/egan-ort/egan-ort/ort"
)

// faultChildEnv makes the test binary a training child (see TestKillAnywhere).
const faultChildEnv = "EGAN_ORT_FAULT_CHILD"

// faultChild is the child process of TestKillAnywhere (TestMain runs it when
// faultChildEnv is set): it trains, or resumes, a tiny run in dir until it is
// killed.
func faultChild(dir string) error {
	if _, err := ort.Init(""); err != nil {
		return err
	}
	c := tinyConfig("wgan-gp")
	c.Epochs = 1000
	o := options(nil, dir)
	o.Resume = checkpoint.Exists(dir, LastCheckpoint)
	_, err := Train(context.Background(), c, o)
	return err
}

// TestKillAnywhere kills a training process with SIGKILL at random moments,
// many of them during a checkpoint write (checkpoints are written every
// epoch of a few steps): after every kill the last checkpoint loads, and the
// run resumes from it.
func TestKillAnywhere(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	lastStep := int64(-1)
	for kill := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), faultChildEnv+"="+dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait until the child has made progress (it loads data and builds
		// sessions first), then kill it at a random moment.
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			st, err := ReadState(dir, LastCheckpoint)
			if err == nil && st.Step > lastStep {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(time.Duration(r.IntN(400)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()

		// The latest complete checkpoint loads, tensors and all.
		st, err := ReadState(dir, LastCheckpoint)
		if err != nil {
			t.Fatalf("kill %d: last checkpoint unreadable: %v", kill, err)
		}
		m, err := OpenModel(dir, LastCheckpoint, ort.Options{Threads: 1})
		if err != nil {
			t.Fatalf("kill %d: last checkpoint does not load: %v", kill, err)
		}
		m.Destroy()
		if st.Step < lastStep {
			t.Fatalf("kill %d: checkpoint went back from step %d to %d", kill, lastStep, st.Step)
		}
		lastStep = st.Step
		t.Logf("kill %d: checkpoint at epoch %d, step %d", kill, st.Epoch, st.Step)
	}
	// And the run resumes from the last one.
	o := options(t, dir)
	o.Resume = true
	st, _ := ReadState(dir, LastCheckpoint)
	c := tinyConfig("wgan-gp")
	c.Epochs = st.Epoch + 1
	if _, err := Train(context.Background(), c, o); err != nil {
		t.Fatalf("resume after kills: %v", err)
	}
}

// TestWriteErrorKeepsCheckpoint makes the run directory unwritable in the
// middle of epoch 2 (chattr +i, which binds root too): training stops with
// an error that names the checkpoint, and the checkpoint of epoch 1 still
// loads.
func TestWriteErrorKeepsCheckpoint(t *testing.T) {
	dir := t.TempDir()
	o := options(t, dir)
	o.AfterStep = func(_ *Trainer, step int64) {
		if step == 5 {
			if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
				t.Fatalf("chattr +i: %v: %s", err, out)
			}
		}
	}
	defer exec.Command("chattr", "-i", dir).Run()
	_, err := Train(context.Background(), tinyConfig("ce"), o)
	exec.Command("chattr", "-i", dir).Run()
	if err == nil {
		t.Fatal("training into a read-only directory succeeded")
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("error does not name the run directory: %v", err)
	}
	if errors.Is(err, ErrNonFinite) {
		t.Errorf("unexpected error kind: %v", err)
	}
	st, lerr := ReadState(dir, LastCheckpoint)
	if lerr != nil || st.Epoch != 1 {
		t.Fatalf("after the write error: epoch %d, %v", st.Epoch, lerr)
	}
	t.Logf("error: %v", err)
}
