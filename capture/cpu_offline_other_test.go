//go:build !unix

package capture

import "time"

// processCPU is not available here: benchmarks omit the CPU-time metric.
func processCPU() time.Duration { return 0 }
