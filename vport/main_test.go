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
	before := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 {
		if err := waitGoroutines(before, 5*time.Second); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// waitGoroutines waits until at most n goroutines are running and returns an
// error with their stacks when that does not happen within d.
func waitGoroutines(n int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		if runtime.NumGoroutine() <= n {
			return nil
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			return fmt.Errorf("goroutine leak: %d running, want <= %d\n%s",
				runtime.NumGoroutine(), n, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkLeaks registers a cleanup that fails t when the test leaves more
// goroutines running than when it called checkLeaks.
func checkLeaks(t testing.TB) {
	n := runtime.NumGoroutine()
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
