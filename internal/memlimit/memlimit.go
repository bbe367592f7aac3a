// Package memlimit gives the Go runtime a soft memory limit below the
// container's. Without one, the garbage collector lets the heap grow to
// twice what is live (GOGC=100) whatever the container allows, and a
// manager whose cache grows with the cluster is killed for running out of
// memory while half its heap is garbage. With one, the collector works
// harder as the heap nears the limit. Without GOGC set, the collector's
// target is lowered too (SetGCPercent): most of the heap is the cache.
package memlimit

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// CgroupFiles are where a container's memory limit is read from: cgroup v2,
// then v1.
var CgroupFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// Fraction is the share of the container's memory limit given to the Go
// runtime's soft limit. The rest is for what the runtime does not count
// (the binary, and memory freed but not yet returned to the system).
const Fraction = 0.9

// unlimitedV1 is the least value cgroup v1 reports for no limit (the
// largest int64 rounded down to a page).
const unlimitedV1 = int64(1) << 62

// ContainerLimit reads the memory limit from the first of files that
// exists. ok is false when there is none: no such file (not in a
// container, or not Linux), "max", or cgroup v1's value for no limit.
func ContainerLimit(files []string) (limit int64, ok bool, err error) {
	for _, f := range files {
		data, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return 0, false, err
		}
		s := strings.TrimSpace(string(data))
		if s == "max" {
			return 0, false, nil
		}
		limit, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, false, fmt.Errorf("%s: %q is not a memory limit in bytes", f, s)
		}
		if limit <= 0 || limit >= unlimitedV1 {
			return 0, false, nil
		}
		return limit, true, nil
	}
	return 0, false, nil
}

// Set gives the Go runtime a soft memory limit of Fraction of the
// container's, read from files, and returns it; 0 when it set none: the
// container has no limit, or GOMEMLIMIT is set (getenv), which the runtime
// has applied already and which wins.
func Set(getenv func(string) string, files []string) (int64, error) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, nil
	}
	limit, ok, err := ContainerLimit(files)
	if err != nil || !ok {
		return 0, err
	}
	soft := int64(float64(limit) * Fraction)
	debug.SetMemoryLimit(soft)
	return soft, nil
}

// DefaultGCPercent is the garbage collector's target (GOGC) the manager
// runs with unless GOGC is set. Most of the manager's heap is its cache,
// which lives as long as the process; at Go's default of 100 the heap
// grows to twice what is live before a collection, so half the memory it
// takes from the system is room for short-lived garbage. At 75 that room
// is three quarters of the live heap: at P=1000 in the scale benchmark,
// about 12% less RSS for a few percent more CPU in collections
// (docs/benchmarks.md). Prometheus made the same choice for the same
// reason (its default is 75 since 2.53).
const DefaultGCPercent = 75

// SetGCPercent sets the garbage collector's target to DefaultGCPercent and
// returns it; 0 when it set nothing because GOGC is set (getenv), which the
// runtime has applied already and which wins.
func SetGCPercent(getenv func(string) string) int {
	if getenv("GOGC") != "" {
		return 0
	}
	debug.SetGCPercent(DefaultGCPercent)
	return DefaultGCPercent
}
