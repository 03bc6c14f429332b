package main

import (
	"os"
	"runtime/pprof"
)

// SMPP_CPUPROFILE=file writes a CPU profile of the whole run: for finding
// hot spots under smppload and similar external load.
func init() {
	if f := os.Getenv("SMPP_CPUPROFILE"); f != "" {
		out, err := os.Create(f)
		if err == nil {
			pprof.StartCPUProfile(out)
			profiling = func() { pprof.StopCPUProfile(); out.Close() }
		}
	}
}

var profiling = func() {}
