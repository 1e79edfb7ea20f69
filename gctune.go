package main

import (
	"os"
	"runtime/debug"
)

// exportGCPercent is the garbage collector's target (as GOGC) when wsscope
// exports (text, JSON Lines, HAR) rather than runs the terminal UI: the heap
// may grow to 1.5× the live data instead of 2× before a collection. The
// export path allocates little per message, so collections stay rare, and
// peak memory follows the open connections and messages in progress more
// closely (issue 6: a 2 GB capture of 4000 concurrent connections peaks
// ~20 MB lower).
const exportGCPercent = 50

// tuneGC applies exportGCPercent when stdout is not a terminal (the terminal
// UI cannot run then) and the user set neither GOGC nor GOMEMLIMIT.
func tuneGC(env *environ) {
	if env.StdoutTTY || os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(exportGCPercent)
}
