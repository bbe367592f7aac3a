package logging

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	uberzap "go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// verboseLogger returns controller-runtime's zap logger (as cmd/main.go
// builds it) at `--zap-log-level=10`, writing to the returned buffer.
func verboseLogger(withCaller bool) (logr.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	opts := []zap.Opts{zap.WriteTo(&buf), zap.Level(zapcore.Level(-10))}
	if withCaller {
		opts = append(opts, zap.RawZapOpts(uberzap.AddCaller()))
	}
	return zap.New(opts...), &buf
}

func TestCapVerbosityDropsLevelsAboveTheCap(t *testing.T) {
	inner, buf := verboseLogger(false)
	capped := CapVerbosity(inner, MaxVerbosity)
	for level := 0; level <= 10; level++ {
		want := level <= MaxVerbosity
		if got := capped.V(level).Enabled(); got != want {
			t.Errorf("V(%d).Enabled() = %v, want %v", level, got, want)
		}
		buf.Reset()
		capped.V(level).Info("line", "level", level)
		if logged := buf.Len() > 0; logged != want {
			t.Errorf("V(%d).Info logged = %v, want %v (output %q)", level, logged, want, buf.String())
		}
	}
}

func TestCapVerbosityHoldsForDerivedLoggers(t *testing.T) {
	inner, buf := verboseLogger(false)
	capped := CapVerbosity(inner, 6)
	// Each logger, made more verbose by the given number of levels, is at
	// V(7).
	derived := map[string]struct {
		logger logr.Logger
		more   int
	}{
		"WithName":            {capped.WithName("controller"), 7},
		"WithValues":          {capped.WithValues("namespace", "rewards-demo"), 7},
		"V(3).V(4)":           {capped.V(3), 4},
		"capped at V(6).V(1)": {CapVerbosity(inner.V(6), 6), 1},
	}
	for name, d := range derived {
		buf.Reset()
		l := d.logger.V(d.more)
		l.Info("too verbose")
		if buf.Len() > 0 || l.Enabled() {
			t.Errorf("%s: a line above the cap was logged: %q", name, buf.String())
		}
	}
	buf.Reset()
	capped.WithName("controller").V(6).Info("at the cap")
	if !strings.Contains(buf.String(), "at the cap") || !strings.Contains(buf.String(), "controller") {
		t.Errorf("V(6) with a name: got %q", buf.String())
	}
}

func TestCapVerbosityAlwaysLogsErrors(t *testing.T) {
	inner, buf := verboseLogger(false)
	CapVerbosity(inner, 0).V(9).Error(fmt.Errorf("boom"), "failed")
	if !strings.Contains(buf.String(), "boom") {
		t.Errorf("error not logged: %q", buf.String())
	}
}

func TestCapVerbosityKeepsTheCallersFileAndLine(t *testing.T) {
	inner, buf := verboseLogger(true)
	capped := CapVerbosity(inner, MaxVerbosity)
	for name, l := range map[string]logr.Logger{
		"plain":            capped,
		"with values":      capped.WithValues("reconcileID", "r1"),
		"with name":        capped.WithName("controller").WithValues("reconcileID", "r1"),
		"with values, err": capped.WithValues("reconcileID", "r1"),
	} {
		buf.Reset()
		if strings.HasSuffix(name, "err") {
			l.Error(fmt.Errorf("boom"), "where")
		} else {
			l.Info("where")
		}
		if !strings.Contains(buf.String(), "verbosity_test.go:") {
			t.Errorf("%s: caller not this file: %q", name, buf.String())
		}
	}
}

// Values are handed to the wrapped logger only when a line is written:
// every line still carries all of its logger's values, in order, and
// loggers derived from the same one carry only their own.
func TestCapVerbosityKeepsEachLoggersValues(t *testing.T) {
	inner, buf := verboseLogger(false)
	// Three pairs of values: the parent's slice has room for a fourth, which
	// each child must not write in the other's place.
	parent := CapVerbosity(inner, MaxVerbosity).WithValues("controller", "publisher").WithName("reconciler").
		WithValues("namespace", "rewards-demo").WithValues("kind", "Publisher")
	first := parent.WithValues("name", "contoso")
	second := parent.WithValues("name", "fabrikam")

	for _, c := range []struct {
		name      string
		log       func()
		want, not []string
	}{
		{"first", func() { first.Info("line", "tier", 2) },
			[]string{`"controller":"publisher"`, `"kind":"Publisher"`, `"name":"contoso"`, `"tier":2`, `"logger":"reconciler"`}, []string{"fabrikam"}},
		{"second", func() { second.V(1).Info("line") },
			[]string{`"controller":"publisher"`, `"name":"fabrikam"`}, []string{"contoso"}},
		{"second, error", func() { second.Error(fmt.Errorf("boom"), "failed") },
			[]string{`"controller":"publisher"`, `"name":"fabrikam"`, "boom"}, []string{"contoso"}},
		{"parent", func() { parent.Info("line") },
			[]string{`"controller":"publisher"`}, []string{"contoso", "fabrikam"}},
	} {
		buf.Reset()
		c.log()
		out := buf.String()
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: %s missing from %q", c.name, w, out)
			}
		}
		for _, n := range c.not {
			if strings.Contains(out, n) {
				t.Errorf("%s: %s in %q", c.name, n, out)
			}
		}
	}
	// In the order they were given.
	buf.Reset()
	first.Info("line")
	if out := buf.String(); strings.Index(out, `"controller"`) > strings.Index(out, `"name"`) {
		t.Errorf("values out of order: %q", out)
	}
}

// The threat the cap answers: client-go logs, through the logger of the
// request's context (which controller-runtime sets for every reconcile),
// the bodies of requests and responses, contact data included. The same
// requests through the capped logger log none of it.
func TestClientGoLogsObjectBodiesOnlyWithoutTheCap(t *testing.T) {
	const (
		email = "avery.howard@contoso.com"
		phone = "+14255550100"
	)
	publisher := fmt.Sprintf(`{"apiVersion":"rewards.marketplace.io/v1alpha1","kind":"Publisher",`+
		`"metadata":{"name":"contoso","namespace":"rewards-demo"},`+
		`"spec":{"mpnId":"4839210","marketingContact":{"email":%q,"phone":%q}}}`, email, phone)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(publisher))
	}))
	defer srv.Close()
	client, err := dynamic.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	publishers := client.Resource(schema.GroupVersionResource{
		Group: "rewards.marketplace.io", Version: "v1alpha1", Resource: "publishers",
	}).Namespace("rewards-demo")

	requests := func(l logr.Logger) {
		ctx := klog.NewContext(context.Background(), l)
		if _, err := publishers.Get(ctx, "contoso", metav1.GetOptions{}); err != nil {
			t.Fatal(err)
		}
		patch := fmt.Sprintf(`{"spec":{"marketingContact":{"email":%q,"phone":%q}}}`, email, phone)
		if _, err := publishers.Patch(ctx, "contoso", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	uncapped, uncappedLog := verboseLogger(false)
	requests(uncapped)
	for _, secret := range []string{email, phone} {
		if !strings.Contains(uncappedLog.String(), secret) {
			t.Fatalf("without the cap client-go should log %q (else this test proves nothing); log:\n%s", secret, uncappedLog)
		}
	}

	inner, cappedLog := verboseLogger(false)
	requests(CapVerbosity(inner, MaxVerbosity))
	for _, secret := range []string{email, phone} {
		if strings.Contains(cappedLog.String(), secret) {
			t.Errorf("with the cap the log holds %q:\n%s", secret, cappedLog)
		}
	}
}
