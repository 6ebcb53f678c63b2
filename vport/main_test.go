package vport

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run when goroutines started by the tests are still
// alive after them: every port must stop what it started on Close.
func TestMain(m *testing.M) {
	before := len(goroutines())
	code := m.Run()
	if code == 0 {
		if err := waitGoroutines(before, 5*time.Second); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// benign are functions whose goroutines belong to the runtime or the
// testing machinery (the fuzzing engine's signal handler), not to a test.
var benign = []string{"os/signal.signal_recv", "testing.(*F).Fuzz", "testing.runFuzzing"}

// goroutines returns the stacks of all goroutines but benign ones.
func goroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
next:
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, b := range benign {
			if strings.Contains(g, b) {
				continue next
			}
		}
		out = append(out, g)
	}
	return out
}

// waitGoroutines waits until at most n goroutines (benign ones not counted)
// are running and returns an error with their stacks when that does not
// happen within d.
func waitGoroutines(n int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		g := goroutines()
		if len(g) <= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("goroutine leak: %d running, want <= %d\n%s",
				len(g), n, strings.Join(g, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkLeaks registers a cleanup that fails t when the test leaves more
// goroutines running than when it called checkLeaks.
func checkLeaks(t testing.TB) {
	n := len(goroutines())
	t.Cleanup(func() {
		if err := waitGoroutines(n, 5*time.Second); err != nil {
			t.Error(firstLines(err.Error(), 60))
		}
	})
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
