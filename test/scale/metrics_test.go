//go:build scale

package scale

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The operator's Go heap, as its metrics endpoint reports it (the Go
// collector controller-runtime registers).
const (
	heapInuseMetric = "go_memstats_heap_inuse_bytes"
	heapAllocMetric = "go_memstats_heap_alloc_bytes"
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
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	url := "http://" + addr + "/metrics"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return heapSample{}, err
	}
	// The text format: the parser below reads no other.
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return heapSample{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return heapSample{}, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return heapSample{}, fmt.Errorf("parsing %s: %w", url, err)
	}
	var s heapSample
	if s.inuse, err = gaugeOf(families, heapInuseMetric); err != nil {
		return heapSample{}, err
	}
	if s.alloc, err = gaugeOf(families, heapAllocMetric); err != nil {
		return heapSample{}, err
	}
	return s, nil
}

// gaugeOf returns the value of a metric with a single series, a gauge (or
// untyped).
func gaugeOf(families map[string]*dto.MetricFamily, name string) (int64, error) {
	mf, ok := families[name]
	if !ok || len(mf.GetMetric()) != 1 {
		return 0, fmt.Errorf("metrics endpoint: no single series of %s", name)
	}
	m := mf.GetMetric()[0]
	switch {
	case m.GetGauge() != nil:
		return int64(m.GetGauge().GetValue()), nil
	case m.GetUntyped() != nil:
		return int64(m.GetUntyped().GetValue()), nil
	default:
		return 0, fmt.Errorf("metrics endpoint: %s is a %s, not a gauge", name, mf.GetType())
	}
}
