//go:build scale

package scale

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The operator's Go heap and garbage collections, as its metrics endpoint
// reports them (the Go collector controller-runtime registers).
const (
	heapInuseMetric = "go_memstats_heap_inuse_bytes"
	heapAllocMetric = "go_memstats_heap_alloc_bytes"
	lastGCMetric    = "go_memstats_last_gc_time_seconds"
	// controller-runtime's, per controller (and, for the queue, priority).
	reconcileTotalMetric = "controller_runtime_reconcile_total"
	activeWorkersMetric  = "controller_runtime_active_workers"
	queueDepthMetric     = "workqueue_depth"
	leaderMetric         = "leader_election_master_status"
)

// freeLocalAddr returns 127.0.0.1:<port> with a port free at the time of
// the call: listened on with port 0, then closed. Another process may take
// it before the operator binds it.
func freeLocalAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return "", err
	}
	return addr, nil
}

// heapSample is the operator's Go heap at one instant, in bytes.
type heapSample struct{ inuse, alloc int64 }

// scrapeHeap reads go_memstats_heap_inuse_bytes and
// go_memstats_heap_alloc_bytes from the plain-HTTP metrics endpoint at addr
// (host:port).
func scrapeHeap(ctx context.Context, addr string) (heapSample, error) {
	families, err := scrapeMetrics(ctx, addr)
	if err != nil {
		return heapSample{}, err
	}
	var s heapSample
	inuse, err := gaugeOf(families, heapInuseMetric)
	if err != nil {
		return heapSample{}, err
	}
	alloc, err := gaugeOf(families, heapAllocMetric)
	if err != nil {
		return heapSample{}, err
	}
	s.inuse, s.alloc = int64(inuse), int64(alloc)
	return s, nil
}

// metricsSource reads a process's metrics.
type metricsSource func(ctx context.Context) (map[string]*dto.MetricFamily, error)

// lastGC reads when a process's last garbage collection ended
// (go_memstats_last_gc_time_seconds, which the operator and the API server
// both export).
func lastGC(ctx context.Context, source metricsSource) (time.Time, error) {
	families, err := source(ctx)
	if err != nil {
		return time.Time{}, err
	}
	seconds, err := gaugeOf(families, lastGCMetric)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(0, int64(seconds*float64(time.Second))), nil
}

// parseMetrics parses the Prometheus text format.
func parseMetrics(r io.Reader, from string) (map[string]*dto.MetricFamily, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", from, err)
	}
	return families, nil
}

// scrapeMetrics reads every metric family from the plain-HTTP metrics
// endpoint at addr (host:port).
func scrapeMetrics(ctx context.Context, addr string) (map[string]*dto.MetricFamily, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	url := "http://" + addr + "/metrics"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	// The text format: the parser below reads no other.
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return parseMetrics(resp.Body, url)
}

// gaugeOf returns the value of a metric with a single series, a gauge (or
// untyped).
func gaugeOf(families map[string]*dto.MetricFamily, name string) (float64, error) {
	mf, ok := families[name]
	if !ok || len(mf.GetMetric()) != 1 {
		return 0, fmt.Errorf("metrics endpoint: no single series of %s", name)
	}
	m := mf.GetMetric()[0]
	switch {
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue(), nil
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue(), nil
	default:
		return 0, fmt.Errorf("metrics endpoint: %s is a %s, not a gauge", name, mf.GetType())
	}
}

// sumByController adds up a metric's series by their controller label.
func sumByController(families map[string]*dto.MetricFamily, name string) map[string]float64 {
	out := map[string]float64{}
	for _, m := range families[name].GetMetric() {
		var v float64
		switch {
		case m.GetCounter() != nil:
			v = m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			v = m.GetGauge().GetValue()
		case m.GetUntyped() != nil:
			v = m.GetUntyped().GetValue()
		}
		for _, l := range m.GetLabel() {
			if l.GetName() == "controller" {
				out[l.GetValue()] += v
			}
		}
	}
	return out
}

// passDone says, from a manager's metrics, whether its startup pass is
// done: each controller of want has reconciled at least want's count of
// objects since the process started (controller_runtime_reconcile_total,
// every result), no workqueue holds an object ready to reconcile
// (workqueue_depth: those waiting for a later instant are not counted) and
// no worker is busy (controller_runtime_active_workers). A controller that
// has not started yet reports nothing, and is not done. When not done, it
// says what is left.
func passDone(families map[string]*dto.MetricFamily, want map[string]int) (bool, string) {
	var left []string
	reconciled := sumByController(families, reconcileTotalMetric)
	for _, c := range slices.Sorted(maps.Keys(want)) {
		if got, ok := reconciled[c]; !ok {
			left = append(left, c+" not started")
		} else if int(got) < want[c] {
			left = append(left, fmt.Sprintf("%s %d of %d reconciled", c, int(got), want[c]))
		}
	}
	for what, byController := range map[string]map[string]float64{
		"queued": sumByController(families, queueDepthMetric), "being reconciled": sumByController(families, activeWorkersMetric),
	} {
		for _, c := range slices.Sorted(maps.Keys(byController)) {
			if n := byController[c]; n > 0 {
				left = append(left, fmt.Sprintf("%s %d %s", c, int(n), what))
			}
		}
	}
	if len(left) > 0 {
		slices.Sort(left)
		return false, strings.Join(left, ", ")
	}
	return true, ""
}

// leading says whether a manager's metrics report it the leader of its
// Lease (leader_election_master_status 1); without leader election, or
// before it has tried, they report nothing.
func leading(families map[string]*dto.MetricFamily) bool {
	for _, m := range families[leaderMetric].GetMetric() {
		if m.GetGauge().GetValue() == 1 {
			return true
		}
	}
	return false
}
