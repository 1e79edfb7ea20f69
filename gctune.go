package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// Garbage collector settings when wsscope exports (text, JSON Lines, HAR)
// rather than runs the terminal UI. The export path allocates little per
// message, so collections are rare and cheap; these settings trim the
// collector's headroom so that peak memory follows the open connections and
// messages in progress (issue 6: peak RSS under 150 MB on the benchmark
// captures, including 2 GB with 4000 concurrent connections):
//
//   - exportGCPercent (as GOGC): the heap may grow to 1.5× the live data
//     before a collection, instead of 2×;
//   - exportMemoryLimit (as GOMEMLIMIT): a soft limit on the process's Go
//     memory. It only trims headroom: after every collection it is raised
//     to 1.5× the live heap plus exportLimitSlack when that is more, so a
//     capture that needs more memory gets it without the collector running
//     back to back.
const (
	exportGCPercent   = 50
	exportMemoryLimit = 128 << 20
	exportLimitSlack  = 16 << 20
)

// tuneGC applies the export settings when stdout is not a terminal (the
// terminal UI cannot run then) and the user set neither GOGC nor GOMEMLIMIT.
func tuneGC(env *environ) {
	if env.StdoutTTY || os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(exportGCPercent)
	debug.SetMemoryLimit(exportMemoryLimit)
	followLiveHeap()
}

// gcSentinel is an object whose finalizer runs after each collection.
type gcSentinel struct{ _ [32]byte }

// followLiveHeap arranges for the soft memory limit to be recomputed after
// every collection (see exportMemoryLimit).
func followLiveHeap() {
	runtime.SetFinalizer(new(gcSentinel), func(*gcSentinel) {
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(s)
		if s[0].Value.Kind() == metrics.KindUint64 {
			live := int64(s[0].Value.Uint64())
			debug.SetMemoryLimit(max(exportMemoryLimit, live*(100+exportGCPercent)/100+exportLimitSlack))
		}
		followLiveHeap()
	})
}
