//go:build race

package pipeline

// Under the race detector (about 10x slower) the equivalence checks run
// one sharded configuration: 3 shards on however many CPUs.
func init() { shardCounts = []int{3} }
