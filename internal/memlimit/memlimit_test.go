package memlimit

import (
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

func TestContainerLimit(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	missing := filepath.Join(dir, "missing")
	cases := map[string]struct {
		files   []string
		limit   int64
		ok, err bool
	}{
		"cgroup v2 limit":         {files: []string{file("v2", "268435456\n")}, limit: 268435456, ok: true},
		"cgroup v2 without limit": {files: []string{file("v2max", "max\n")}},
		"cgroup v1 limit":         {files: []string{missing, file("v1", "536870912\n")}, limit: 536870912, ok: true},
		"cgroup v1 without limit": {files: []string{missing, file("v1max", "9223372036854771712\n")}},
		"not in a container":      {files: []string{missing}},
		"the first file that is":  {files: []string{file("first", "100000000"), file("second", "200000000")}, limit: 100000000, ok: true},
		"not a number":            {files: []string{file("bad", "lots\n")}, err: true},
		"zero is not a limit":     {files: []string{file("zero", "0")}},
		"a directory is an error": {files: []string{dir}, err: true},
	}
	for name, c := range cases {
		limit, ok, err := ContainerLimit(c.files)
		if (err != nil) != c.err || ok != c.ok || limit != c.limit {
			t.Errorf("%s: got %d, %v, %v; want %d, %v, error %v", name, limit, ok, err, c.limit, c.ok, c.err)
		}
	}
}

func TestSet(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1)) // restore
	dir := t.TempDir()
	limitFile := filepath.Join(dir, "memory.max")
	if err := os.WriteFile(limitFile, []byte("1000000000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noEnv := func(string) string { return "" }

	debug.SetMemoryLimit(math.MaxInt64)
	got, err := Set(noEnv, []string{limitFile})
	if err != nil || got != 900000000 {
		t.Fatalf("Set = %d, %v; want 900000000 (90%% of the container's)", got, err)
	}
	if now := debug.SetMemoryLimit(-1); now != 900000000 {
		t.Errorf("runtime limit %d, want 900000000", now)
	}

	// GOMEMLIMIT wins: the runtime applied it at start, Set leaves it.
	debug.SetMemoryLimit(math.MaxInt64)
	got, err = Set(func(k string) string {
		if k == "GOMEMLIMIT" {
			return "300MiB"
		}
		return ""
	}, []string{limitFile})
	if err != nil || got != 0 {
		t.Fatalf("Set with GOMEMLIMIT = %d, %v; want 0, nil", got, err)
	}
	if now := debug.SetMemoryLimit(-1); now != math.MaxInt64 {
		t.Errorf("runtime limit %d changed with GOMEMLIMIT set", now)
	}

	// No container limit: no runtime limit.
	got, err = Set(noEnv, []string{filepath.Join(dir, "missing")})
	if err != nil || got != 0 {
		t.Fatalf("Set without a limit = %d, %v; want 0, nil", got, err)
	}
	if now := debug.SetMemoryLimit(-1); now != math.MaxInt64 {
		t.Errorf("runtime limit %d set without a container limit", now)
	}
}

// gcPercent reads the garbage collector's target, leaving it as it was.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func TestSetGCPercent(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })

	if got := SetGCPercent(func(string) string { return "" }); got != DefaultGCPercent || gcPercent() != DefaultGCPercent {
		t.Errorf("without GOGC: set %d, the runtime's target is %d; want %d both", got, gcPercent(), DefaultGCPercent)
	}

	debug.SetGCPercent(200) // what the runtime applied from GOGC=200
	env := map[string]string{"GOGC": "200"}
	if got := SetGCPercent(func(k string) string { return env[k] }); got != 0 || gcPercent() != 200 {
		t.Errorf("with GOGC=200: set %d, the runtime's target is %d; want nothing set, 200 kept", got, gcPercent())
	}
}
