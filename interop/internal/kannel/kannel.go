// Package kannel is what the suites that run Kannel (bearerbox and smsbox,
// Debian package kannel) as a third-party ESME share: starting and stopping
// its processes, free ports, fetching its HTTP interfaces, and waiting on
// conditions while watching that none of its processes has exited.
package kannel

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/smppkit/smpp/interop/internal/peer"
)

// Tool finds a Kannel program (Debian puts them in /usr/sbin), or skips
// the test (fails it with SMPPKIT_INTEROP=1).
func Tool(t *testing.T, name string) string {
	t.Helper()
	return peer.Require(t, name, "Debian: apt-get install kannel")
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Proc is a Kannel process a test started.
type Proc struct {
	Name string
	cmd  *exec.Cmd
	done chan struct{}
	once sync.Once
}

// Start runs bin with the configuration file conf in dir, its output in
// dir/NAME.out; exited hears the name when it exits. It dies with the test
// binary, and is stopped (SIGTERM, grace) when the test ends.
func Start(t *testing.T, dir, name, bin, conf string, exited chan<- string, grace time.Duration) *Proc {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, name+".out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(bin, conf)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &Proc{Name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.done)
		exited <- name
	}()
	t.Cleanup(func() { p.Stop(t, grace, false) })
	return p
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// ExitCode is the process's exit code once it has exited.
func (p *Proc) ExitCode() int { return p.cmd.ProcessState.ExitCode() }

// Stop sends SIGTERM, on which Kannel shuts down (bearerbox unbinds), and
// kills the process if it has not exited after grace; that is an error when
// must is set.
func (p *Proc) Stop(t *testing.T, grace time.Duration, must bool) {
	p.once.Do(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			msg := fmt.Sprintf("%s did not stop on SIGTERM within %v; killing it", p.Name, grace)
			if must {
				t.Error(msg)
			} else {
				t.Log(msg)
			}
			p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// client keeps no connections open, which could hold up smsbox's shutdown.
var client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// Get fetches a URL and returns its body and status, within 10 s.
func Get(ctx context.Context, u string) (string, int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return string(b), resp.StatusCode, err
}

// Poll polls an external process's state every 100 ms until ok, the context
// ends or a Kannel process exits.
func Poll(ctx context.Context, exited <-chan string, what string, ok func() (bool, error)) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		done, err := ok()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if done {
			return nil
		}
		select {
		case name := <-exited:
			return fmt.Errorf("waiting for %s: %s exited", what, name)
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-tick.C:
		}
	}
}

// Waiter wakes those waiting for a condition on what a test records (the
// requests Kannel made, the PDUs it sent).
type Waiter struct {
	Mu     sync.Mutex
	notify chan struct{}
}

// Add records something under the lock and wakes a waiter.
func (w *Waiter) Add(f func()) {
	w.Mu.Lock()
	f()
	w.Mu.Unlock()
	w.Wake()
}

// Wake wakes a waiter.
func (w *Waiter) Wake() {
	w.init()
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

func (w *Waiter) init() {
	w.Mu.Lock()
	if w.notify == nil {
		w.notify = make(chan struct{}, 1)
	}
	w.Mu.Unlock()
}

// Wait waits until cond (called with the lock held) is true, the context
// ends or one of the processes exits.
func (w *Waiter) Wait(ctx context.Context, what string, exited <-chan string, cond func() bool) error {
	w.init()
	for {
		w.Mu.Lock()
		ok := cond()
		w.Mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-w.notify:
		case name := <-exited:
			return fmt.Errorf("waiting for %s: %s exited", what, name)
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		}
	}
}
