// Package smppd runs the smppd daemon as its own process for the interop
// and crash tests: built once per test binary from this module, started on
// free loopback ports with a data directory of the test's, and stopped with
// SIGTERM or killed with SIGKILL.
package smppd

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var build struct {
	once sync.Once
	path string
	err  error
}

// Binary builds cmd/smppd once per test binary and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..", "..")
		dir, err := os.MkdirTemp("", "smppd-bin-")
		if err != nil {
			build.err = err
			return
		}
		build.path = filepath.Join(dir, "smppd")
		cmd := exec.Command("go", "build", "-o", build.path, "./cmd/smppd")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build ./cmd/smppd: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// Daemon is a running smppd.
type Daemon struct {
	t        testing.TB
	SMPPAddr string
	HTTPAddr string
	DataDir  string
	cmd      *exec.Cmd
	out      *syncBuffer
	exited   chan struct{}
}

// Config is how a daemon is started.
type Config struct {
	// DataDir is the store's directory (a new temporary one if empty;
	// reuse one to restart on the same store).
	DataDir string
	// SMPPAddr, HTTPAddr: free loopback ports if empty.
	SMPPAddr, HTTPAddr string
	// ConfigYAML, if set, is written to a file passed with --config.
	ConfigYAML string
	// Env adds variables (KEY=value).
	Env []string
}

// FreeAddr returns a loopback address with a free port.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Start starts smppd and waits until it answers /ready. The daemon is
// stopped (SIGTERM) when the test ends, if still running.
func Start(t testing.TB, c Config) *Daemon {
	t.Helper()
	if c.DataDir == "" {
		c.DataDir = t.TempDir()
	}
	if c.SMPPAddr == "" {
		c.SMPPAddr = FreeAddr(t)
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = FreeAddr(t)
	}
	args := []string{"--smpp-addr", c.SMPPAddr, "--http-addr", c.HTTPAddr, "--data-dir", c.DataDir}
	if c.ConfigYAML != "" {
		f := filepath.Join(t.TempDir(), "smppd.yaml")
		if err := os.WriteFile(f, []byte(c.ConfigYAML), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", f)
	}
	d := &Daemon{t: t, SMPPAddr: c.SMPPAddr, HTTPAddr: c.HTTPAddr, DataDir: c.DataDir, out: &syncBuffer{}, exited: make(chan struct{})}
	d.cmd = exec.Command(Binary(t), args...)
	d.cmd.Env = append(cleanEnv(), c.Env...)
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		d.Stop()
		if t.Failed() {
			t.Logf("smppd output:\n%s", d.Output())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + d.HTTPAddr + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return d
			}
		}
		select {
		case <-d.exited:
			t.Fatalf("smppd exited at start:\n%s", d.Output())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("smppd not ready within 30 s:\n%s", d.Output())
		}
	}
}

// cleanEnv is the test's environment without smppd's own variables, so a
// developer's shell cannot change what a test runs.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.Contains(k, "__") || k == "CONFIG_PATH" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// Stop stops the daemon gracefully (SIGTERM) and waits for it.
func (d *Daemon) Stop() {
	select {
	case <-d.exited:
		return
	default:
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
		d.cmd.Process.Kill()
		<-d.exited
		d.t.Errorf("smppd did not stop within 30 s of SIGTERM")
	}
}

// Kill kills the daemon with SIGKILL and waits for it.
func (d *Daemon) Kill() {
	d.cmd.Process.Kill()
	<-d.exited
}

// Exited is closed when the process has exited.
func (d *Daemon) Exited() <-chan struct{} { return d.exited }

// ExitCode is the process's exit code once it has exited.
func (d *Daemon) ExitCode() int { return d.cmd.ProcessState.ExitCode() }

// Output returns what the daemon logged so far.
func (d *Daemon) Output() string { return d.out.String() }

// WaitLog waits until the log holds a line containing s.
func (d *Daemon) WaitLog(ctx context.Context, s string) error {
	for {
		if strings.Contains(d.Output(), s) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("smppd never logged %q", s)
		case <-d.exited:
			if strings.Contains(d.Output(), s) {
				return nil
			}
			return fmt.Errorf("smppd exited without logging %q", s)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Lines returns the log lines containing s.
func (d *Daemon) Lines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(d.Output()))
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			out = append(out, sc.Text())
		}
	}
	return out
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
