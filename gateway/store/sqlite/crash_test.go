package sqlite_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smppkit/smpp/gateway/store"
	"github.com/smppkit/smpp/gateway/store/sqlite"
)

// The crash test's child process: it runs TestCrash with this variable set
// to the database's path.
const crashEnv = "SMPPKIT_SQLITE_CRASH_CHILD"

const crashBatch = 200 // messages per batch

func crashID(batch, j int) string { return fmt.Sprintf("b%05d-%03d", batch, j) }

func crashDelivery(batch, j int) uint64 { return uint64(batch*1000 + j) }

// crashWork returns batch n: it inserts the messages and deliveries of n,
// moves n-1's messages to Delivered and marks n-2's deliveries done.
func crashWork(n int) *store.Batch {
	var b store.Batch
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Second)
	for j := range crashBatch {
		b.Messages = append(b.Messages, &store.Message{
			ID: crashID(n, j), Account: "acme", State: store.Accepted, SubmittedAt: now,
			Dest: store.Address{TON: 1, NPI: 1, Addr: "447700900123"},
			Body: []byte("a message long enough to fill some pages of the database file"),
		})
		b.Deliveries = append(b.Deliveries, &store.Delivery{ID: crashDelivery(n, j), MessageID: crashID(n, j), Kind: store.Receipt, CreatedAt: now})
		if n > 0 {
			b.Updates = append(b.Updates, store.Update{ID: crashID(n-1, j), State: store.Delivered, At: now})
		}
		if n > 1 {
			b.Done = append(b.Done, crashDelivery(n-2, j))
		}
	}
	return &b
}

// crashChild applies batches until it is killed, printing "committed n"
// once batch n's Apply has returned.
func crashChild(path string) {
	s, err := sqlite.Open(path, sqlite.Options{Durability: store.Crash})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	for n := 0; n < 100_000; n++ { // bounded, should the parent vanish
		if err := s.Apply(context.Background(), crashWork(n)); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("committed", n)
	}
	os.Exit(0)
}

// TestCrash kills a process that is applying batches, with SIGKILL, and
// checks that every batch it reported committed is there, whole, and that
// the batch it was in the middle of is there whole or not at all.
func TestCrash(t *testing.T) {
	if path := os.Getenv(crashEnv); path != "" {
		crashChild(path)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Read the child's reports; kill it once it has committed killAfter
	// batches, while it is (most likely) in the middle of the next.
	const killAfter = 12
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	committed := -1
	killed := false
	deadline := time.After(2 * time.Minute)
	for done := false; !done; {
		select {
		case line, ok := <-lines:
			if !ok {
				done = true
				break
			}
			n, found := strings.CutPrefix(line, "committed ")
			if !found {
				if strings.HasPrefix(line, "error") {
					t.Errorf("child: %s", line)
				}
				continue
			}
			v, err := strconv.Atoi(n)
			if err != nil || v != committed+1 {
				t.Fatalf("child said %q after batch %d", line, committed)
			}
			committed = v
			if committed+1 >= killAfter && !killed {
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("child committed only %d batches in time", committed+1)
		}
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != -1 {
		t.Fatalf("child ended with %v, want killed", err)
	}
	t.Logf("child killed after reporting %d batches", committed+1)

	s, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	// present[n] is how many of batch n's messages are stored.
	present := func(n int) int {
		c := 0
		for j := range crashBatch {
			if _, err := s.Message(ctx, crashID(n, j)); err == nil {
				c++
			} else if !errors.Is(err, store.ErrNotFound) {
				t.Fatal(err)
			}
		}
		return c
	}
	last := committed // the last batch stored
	if c := present(committed + 1); c == crashBatch {
		last = committed + 1 // committed, killed before it could say so
	} else if c != 0 {
		t.Fatalf("batch %d is partly there: %d of %d messages", committed+1, c, crashBatch)
	}
	if c := present(last + 1); c != 0 {
		t.Fatalf("batch %d, never started, has %d messages", last+1, c)
	}
	deliveries := map[uint64]bool{}
	if err := s.Deliveries(ctx, func(d *store.Delivery) error { deliveries[d.ID] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	for n := 0; n <= last; n++ {
		if c := present(n); c != crashBatch {
			t.Fatalf("batch %d: %d of %d messages", n, c, crashBatch)
		}
		wantState := store.Delivered // updated by batch n+1
		if n == last {
			wantState = store.Accepted
		}
		wantDelivery := n >= last-1 // done by batch n+2
		for j := range crashBatch {
			m, err := s.Message(ctx, crashID(n, j))
			if err != nil {
				t.Fatal(err)
			}
			if m.State != wantState {
				t.Fatalf("message %s is %v, want %v", m.ID, m.State, wantState)
			}
			if deliveries[crashDelivery(n, j)] != wantDelivery {
				t.Fatalf("delivery %d stored: %v, want %v", crashDelivery(n, j), !wantDelivery, wantDelivery)
			}
		}
	}
	if len(deliveries) != min(2, last+1)*crashBatch {
		t.Fatalf("%d deliveries stored, want %d", len(deliveries), min(2, last+1)*crashBatch)
	}
	// The store works after the crash.
	if err := s.Apply(ctx, crashWork(last+1)); err != nil {
		t.Fatalf("Apply after the crash: %v", err)
	}
}
