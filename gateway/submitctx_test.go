package gateway

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSubmitCtx(t *testing.T) {
	type key struct{}
	d := &dispatcher{slots: make(submitSlots, 2)}
	d.ctx, d.quit = context.WithCancel(context.WithValue(context.Background(), key{}, "v"))

	c := d.beginSubmit(0, time.Minute)
	if dl, ok := c.Deadline(); !ok || time.Until(dl) < 59*time.Second {
		t.Fatalf("deadline %v %v", dl, ok)
	}
	if c.Value(key{}) != "v" || c.Err() != nil {
		t.Fatalf("value %v, err %v", c.Value(key{}), c.Err())
	}
	done := c.Done()
	d.expireSubmits(time.Now()) // not due yet
	select {
	case <-done:
		t.Fatal("done before its deadline")
	default:
	}
	d.expireSubmits(time.Now().Add(time.Minute))
	<-done
	if !errors.Is(c.Err(), context.DeadlineExceeded) {
		t.Fatalf("err %v", c.Err())
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
