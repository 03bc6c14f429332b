package main

import "runtime/debug"

// serveGCPercent is smpp serve's garbage collector target when GOGC is not
// set, as smppd's (see cmd/smppd/gc.go): the engine's garbage is a few
// short-lived objects per message, and at Go's default of 100 it collects
// very often. GOMEMLIMIT, if set, still bounds the heap (the in-memory
// store keeps every message: a long run needs memory either way).
const serveGCPercent = 400

// setGCDefault applies percent unless the user set GOGC.
func setGCDefault(getenv func(string) string, percent int) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(percent)
	}
}
