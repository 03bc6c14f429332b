package main

import (
	"runtime/debug"
	"testing"
)

func TestGCDefault(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	setGCDefault(func(string) string { return "" }, serveGCPercent)
	if got := debug.SetGCPercent(100); got != serveGCPercent {
		t.Errorf("GOGC unset: GC percent %d, want %d", got, serveGCPercent)
	}
	setGCDefault(func(k string) string { return map[string]string{"GOGC": "50"}[k] }, serveGCPercent)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC set: GC percent changed to %d", got)
	}
}
