package main

import (
	"os"
	"runtime/pprof"
)

// startProfile writes a CPU profile to the file SMPPD_CPUPROFILE names, for
// measuring; the returned function stops it.
func startProfile() func() {
	path := os.Getenv("SMPPD_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		return func() {}
	}
	pprof.StartCPUProfile(f)
	return func() { pprof.StopCPUProfile(); f.Close() }
}
