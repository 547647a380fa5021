// Package testchild runs the test binary again as a child process, for the
// crash tests that kill a real process with SIGKILL: the child takes its
// role from the environment (each package's TestMain looks for its own
// variable), says on its standard output when it has reached the point the
// test waits for, and is killed and reaped when the test ends.
package testchild

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Start runs os.Args[0] with -test.run=run (a pattern that matches no test,
// "^$", when the role is taken in TestMain) and env added to the test's
// own environment. The returned reader is the child's standard output.
func Start(t testing.TB, run string, env ...string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run="+run)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, bufio.NewReader(out)
}

// Expect reads the child's next line and fails the test unless it starts
// with prefix; it returns the line without its newline.
func Expect(t testing.TB, out *bufio.Reader, prefix string) string {
	t.Helper()
	line, err := out.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, prefix) {
		t.Fatalf("child said %q (%v), want a line starting %q", line, err, prefix)
	}
	return strings.TrimSuffix(line, "\n")
}
