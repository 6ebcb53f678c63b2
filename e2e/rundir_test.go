package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestRundirCleanup: on SIGTERM govsd removes its sockets, and the rundir
// itself when it created it; a rundir that was there before stays.
func TestRundirCleanup(t *testing.T) {
	for _, existed := range []bool{false, true} {
		t.Run(fmt.Sprintf("existed=%v", existed), func(t *testing.T) {
			dir := t.TempDir()
			rundir := filepath.Join(dir, "run")
			if existed {
				if err := os.Mkdir(rundir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			bridge := fmt.Sprintf("gr%d%d", os.Getpid()%10000, labSeq.Add(1))
			cfg := fmt.Sprintf("rundir = %q\n[[bridge]]\nname = %q\ndatapath_id = \"00000000000000e1\"\nfail_mode = \"secure\"\ncontrollers = []\n",
				rundir, bridge)
			path := filepath.Join(dir, "config.toml")
			if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			log := &logBuffer{}
			cmd := exec.Command(govsdBin, "-config", path)
			cmd.Stdout, cmd.Stderr = log, log
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			mgmt := filepath.Join(rundir, bridge+".mgmt")
			if !waitFor(30*time.Second, func() bool { _, err := os.Stat(mgmt); return err == nil }) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("govsd did not come up:\n%s", log)
			}
			cmd.Process.Signal(syscall.SIGTERM)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("govsd: %v\n%s", err, log)
			}
			_, err := os.Stat(rundir)
			switch {
			case existed && err != nil:
				t.Errorf("the rundir that was there before is gone: %v", err)
			case !existed && err == nil:
				entries, _ := os.ReadDir(rundir)
				t.Errorf("the rundir govsd created is still there (%d entries)", len(entries))
			}
			if existed {
				if entries, _ := os.ReadDir(rundir); len(entries) != 0 {
					t.Errorf("left in the rundir: %v", entries)
				}
			}
		})
	}
}
