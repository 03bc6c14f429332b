package gateway

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSubmitCtx(t *testing.T) {
	d := &dispatcher{slots: make(submitSlots, 2)}
	d.ctx, d.quit = context.WithCancel(context.Background())

	c := d.beginSubmit(0, time.Minute)
	if dl, ok := c.Deadline(); !ok || time.Until(dl) < 59*time.Second {
		t.Fatalf("deadline %v %v", dl, ok)
	}
	if c.Err() != nil {
		t.Fatalf("err %v", c.Err())
	}
	// A backend's own context below it ends with it.
	child, cancel := context.WithCancel(c)
	defer cancel()
	done := c.Done()
	d.expireSubmits(time.Now()) // not due yet
	select {
	case <-done:
		t.Fatal("done before its deadline")
	default:
	}
	d.expireSubmits(time.Now().Add(time.Minute))
	<-done
	<-child.Done()
	if !errors.Is(c.Err(), context.DeadlineExceeded) || !errors.Is(context.Cause(c), context.DeadlineExceeded) ||
		!errors.Is(context.Cause(child), context.DeadlineExceeded) {
		t.Fatalf("err %v, cause %v, child's cause %v", c.Err(), context.Cause(c), context.Cause(child))
	}
	d.endSubmit(0, c)
	if !errors.Is(c.Err(), context.DeadlineExceeded) || d.slots[0].Load() != nil {
		t.Fatalf("after end: err %v", c.Err())
	}

	// Ended: done, whether or not Done was asked for before.
	c = d.beginSubmit(1, time.Minute)
	d.endSubmit(1, c)
	<-c.Done()
	if !errors.Is(c.Err(), context.Canceled) {
		t.Fatalf("ended: err %v", c.Err())
	}

	// Quit cancels the submit under way, and those begun after it.
	c = d.beginSubmit(1, time.Minute)
	d.stopSubmits()
	<-c.Done()
	if !errors.Is(c.Err(), context.Canceled) {
		t.Fatalf("quit: err %v", c.Err())
	}
	if c := d.beginSubmit(0, time.Minute); c.Err() == nil {
		t.Fatal("a submit begun after quit is not cancelled")
	}
}
