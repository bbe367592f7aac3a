//go:build scale

package scale

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// profiler records a manager's CPU profile phase by phase (convergence,
// the idle window, the latency and expiry measures) from its
// --pprof-bind-address endpoint, as consecutive short profiles written to
// dir as <prefix>cpu-<round>-<phase>-<n>.pprof (round: w4, or w4-2 for
// the second round of 4 workers); `go tool pprof` merges
// the files of a phase given together. It also writes the heap after
// convergence. The operator's files have no prefix, the floor's "floor-",
// so that `go tool pprof -diff_base` compares them phase by phase.
// A nil profiler (no -profiles flag) does nothing.
type profiler struct {
	dir, addr, prefix string
	round             string

	mu    sync.Mutex
	phase string
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

// profileSlice is the length of each CPU profile: a phase's last slice is
// cut short when the operator stops, so it is kept short.
const profileSlice = 15 * time.Second

func newProfiler(dir, addr, prefix, round string) *profiler {
	if dir == "" || addr == "" {
		return nil
	}
	return &profiler{dir: dir, addr: addr, prefix: prefix, round: round, phase: "converge", done: make(chan struct{})}
}

// start records CPU profiles until stop, each slice under the phase it began in.
func (p *profiler) start(ctx context.Context, logf func(string, ...any)) {
	if p == nil {
		return
	}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		logf("profiles: %v", err)
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for n := 0; ; n++ {
			select {
			case <-p.done:
				return
			default:
			}
			p.mu.Lock()
			phase := p.phase
			p.mu.Unlock()
			name := fmt.Sprintf("%scpu-%s-%s-%03d.pprof", p.prefix, p.round, phase, n)
			url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.addr, int(profileSlice/time.Second))
			if err := p.fetch(ctx, url, name, profileSlice+30*time.Second); err != nil {
				// The endpoint is not up yet (the process just started) or
				// the process is stopping.
				select {
				case <-p.done:
					return
				case <-time.After(time.Second):
				}
			}
		}
	}()
}

// enter names the phase the next CPU profiles belong to.
func (p *profiler) enter(phase string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.phase = phase
	p.mu.Unlock()
}

// heap writes the live heap (after a GC) as <prefix>heap-<round>-<name>.pprof.
func (p *profiler) heap(ctx context.Context, name string) error {
	if p == nil {
		return nil
	}
	return p.fetch(ctx, "http://"+p.addr+"/debug/pprof/heap?gc=1", fmt.Sprintf("%sheap-%s-%s.pprof", p.prefix, p.round, name), time.Minute)
}

// stop ends the CPU profiles, waiting for the one under way; call it
// before stopping the operator. It may be called again.
func (p *profiler) stop() {
	if p == nil {
		return
	}
	p.once.Do(func() { close(p.done) })
	p.wg.Wait()
}

func (p *profiler) fetch(ctx context.Context, url, name string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(p.dir, name), data, 0o644)
}
