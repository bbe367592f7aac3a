// Package alerts unit-tests the alerts of config/prometheus/prometheus_rule.yaml
// the way `promtool test rules` does, in Go: each alert is evaluated by
// Prometheus' own rule and PromQL packages over synthetic series, every
// evaluation interval from the start of the series, and must fire on the
// condition it names and stay quiet otherwise. The Helm chart ships the
// same file (test/release checks it renders it unchanged).
package alerts

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"
	"sigs.k8s.io/yaml"
)

// A case loads series (promqltest's `load` syntax: the first sample at
// the Unix epoch, one every interval), evaluates the alert every interval
// from the epoch until at, and wants exactly these alerts firing at at,
// each given by labels it must carry (nil: none firing).
type alertCase struct {
	alert    string
	name     string
	interval time.Duration
	series   string
	at       time.Duration
	firing   []map[string]string
}

const job = `job="rewards-operator"`

// Instants the series below hold as values (seconds since the epoch).
var (
	tenMinutes = int((10 * time.Minute).Seconds())
	tenDays    = int((10 * 24 * time.Hour).Seconds())
)

var cases = []alertCase{
	// RewardsOperatorDown: absent(up{job="rewards-operator"} == 1) for 10m.
	{
		alert: "RewardsOperatorDown", name: "fires when the only endpoint has been down for 10 minutes",
		interval: time.Minute, series: `up{` + job + `, instance="a"} 0x30`,
		at: 11 * time.Minute, firing: []map[string]string{{"severity": "critical"}},
	},
	{
		alert: "RewardsOperatorDown", name: "fires when no endpoint is scraped at all",
		interval: time.Minute, series: `up{job="something-else"} 1x30`,
		at: 15 * time.Minute, firing: []map[string]string{{"severity": "critical"}},
	},
	{
		alert: "RewardsOperatorDown", name: "waits 10 minutes before firing",
		interval: time.Minute, series: `up{` + job + `, instance="a"} 0x30`,
		at: 9 * time.Minute,
	},
	{
		alert: "RewardsOperatorDown", name: "stays quiet while one of two replicas is up",
		interval: time.Minute, series: `up{` + job + `, instance="a"} 0x30
			up{` + job + `, instance="b"} 1x30`,
		at: 25 * time.Minute,
	},
	{
		alert: "RewardsOperatorDown", name: "stops firing once the endpoint is back",
		interval: time.Minute, series: `up{` + job + `, instance="a"} 0x15 1x15`,
		at: 20 * time.Minute,
	},

	// RewardsReconcileErrors: rate of reconcile errors > 0 for 15m.
	{
		alert: "RewardsReconcileErrors", name: "fires when a controller has failed for 15 minutes",
		interval: time.Minute,
		series: `controller_runtime_reconcile_errors_total{` + job + `, controller="publisher", instance="a"} 0+2x40
			controller_runtime_reconcile_errors_total{` + job + `, controller="offer", instance="a"} 3x40`,
		at:     25 * time.Minute,
		firing: []map[string]string{{"controller": "publisher", "severity": "warning"}},
	},
	{
		alert: "RewardsReconcileErrors", name: "waits 15 minutes before firing",
		interval: time.Minute, series: `controller_runtime_reconcile_errors_total{` + job + `, controller="publisher"} 0+2x40`,
		at: 12 * time.Minute,
	},
	{
		alert: "RewardsReconcileErrors", name: "stays quiet when errors stopped (the counter keeps its total)",
		interval: time.Minute, series: `controller_runtime_reconcile_errors_total{` + job + `, controller="publisher"} 0+1x10 10x40`,
		at: 40 * time.Minute,
	},
	{
		alert: "RewardsReconcileErrors", name: "ignores other jobs' controllers",
		interval: time.Minute, series: `controller_runtime_reconcile_errors_total{job="other", controller="publisher"} 0+2x40`,
		at: 30 * time.Minute,
	},

	// RewardsContactOverdue: the contact due instant is in the past.
	{
		alert: "RewardsContactOverdue", name: "fires once the contact due instant has passed",
		interval: time.Minute,
		series: fmt.Sprintf(`rewards_benefit_activation_contact_due_timestamp_seconds{%s, namespace="acme", activation="a1", offer="o1", benefit="b1", instance="a"} %dx30
			rewards_benefit_activation_contact_due_timestamp_seconds{%s, namespace="acme", activation="a1", offer="o1", benefit="b1", instance="b"} %dx30
			rewards_benefit_activation_contact_due_timestamp_seconds{%s, namespace="acme", activation="a2", offer="o1", benefit="b2", instance="a"} %dx30`,
			job, tenMinutes, job, tenMinutes, job, 2*tenMinutes),
		at: 15 * time.Minute,
		firing: []map[string]string{{
			"namespace": "acme", "activation": "a1", "offer": "o1", "benefit": "b1", "severity": "warning",
		}},
	},
	{
		alert: "RewardsContactOverdue", name: "stays quiet before the due instant",
		interval: time.Minute,
		series: fmt.Sprintf(`rewards_benefit_activation_contact_due_timestamp_seconds{%s, namespace="acme", activation="a1", offer="o1", benefit="b1"} %dx30`,
			job, tenMinutes),
		at: 5 * time.Minute,
	},
	{
		alert: "RewardsContactOverdue", name: "stops firing once the contact is recorded (the series ends)",
		interval: time.Minute,
		series: fmt.Sprintf(`rewards_benefit_activation_contact_due_timestamp_seconds{%s, namespace="acme", activation="a1", offer="o1", benefit="b1"} %dx15`,
			job, tenMinutes),
		at: 25 * time.Minute,
	},

	// RewardsBenefitExpiringSoon: expires within 7 days.
	{
		alert: "RewardsBenefitExpiringSoon", name: "fires within 7 days of the expiry",
		interval: time.Hour,
		series: fmt.Sprintf(`rewards_benefit_activation_expiry_timestamp_seconds{%s, namespace="acme", activation="a1", offer="o1", benefit="b1"} %dx200`,
			job, tenDays),
		at:     4 * 24 * time.Hour,
		firing: []map[string]string{{"namespace": "acme", "activation": "a1", "offer": "o1", "benefit": "b1", "severity": "info"}},
	},
	{
		alert: "RewardsBenefitExpiringSoon", name: "stays quiet more than 7 days before the expiry",
		interval: time.Hour,
		series: fmt.Sprintf(`rewards_benefit_activation_expiry_timestamp_seconds{%s, namespace="acme", activation="a1", offer="o1", benefit="b1"} %dx200`,
			job, tenDays),
		at: 2 * 24 * time.Hour,
	},
	{
		alert: "RewardsBenefitExpiringSoon", name: "stops once the benefit is no longer Active (the series ends at the expiry)",
		interval: time.Hour,
		series: fmt.Sprintf(`rewards_benefit_activation_expiry_timestamp_seconds{%s, namespace="acme", activation="a1", offer="o1", benefit="b1"} %dx240`,
			job, tenDays),
		at: 11 * 24 * time.Hour,
	},

	// RewardsPublisherTierDropped: the tier is below its highest of the last day.
	{
		alert: "RewardsPublisherTierDropped", name: "fires when a publisher's tier drops",
		interval: 10 * time.Minute,
		series: `rewards_publisher_tier{` + job + `, namespace="acme", publisher="contoso"} 3x30 2x30
			rewards_publisher_tier{` + job + `, namespace="acme", publisher="fabrikam"} 1x60`,
		at:     7 * time.Hour,
		firing: []map[string]string{{"namespace": "acme", "publisher": "contoso", "severity": "warning"}},
	},
	{
		alert: "RewardsPublisherTierDropped", name: "stays quiet when a tier rises",
		interval: 10 * time.Minute,
		series:   `rewards_publisher_tier{` + job + `, namespace="acme", publisher="contoso"} 2x30 3x30`,
		at:       7 * time.Hour,
	},
	{
		alert: "RewardsPublisherTierDropped", name: "stops a day after the drop",
		interval: time.Hour,
		series:   `rewards_publisher_tier{` + job + `, namespace="acme", publisher="contoso"} 3x5 2x40`,
		at:       31 * time.Hour,
	},
}

func TestAlerts(t *testing.T) {
	groups := loadRules(t)
	byName := map[string]rulefmt.Rule{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			byName[r.Alert] = r
		}
	}
	checkEveryAlertTested(t, byName)
	for _, c := range cases {
		t.Run(c.alert+"/"+c.name, func(t *testing.T) {
			r, ok := byName[c.alert]
			if !ok {
				t.Fatalf("no alert %s in the rules", c.alert)
			}
			checkFiring(t, c, evaluate(t, r, c))
		})
	}
}

// checkEveryAlertTested fails unless each alert of the file has a case
// where it fires and one where it stays quiet.
func checkEveryAlertTested(t *testing.T, byName map[string]rulefmt.Rule) {
	t.Helper()
	for name := range byName {
		var fires, quiet bool
		for _, c := range cases {
			if c.alert == name {
				fires = fires || len(c.firing) > 0
				quiet = quiet || len(c.firing) == 0
			}
		}
		if !fires || !quiet {
			t.Errorf("alert %s needs a case where it fires and one where it stays quiet", name)
		}
	}
}

// checkFiring compares the alerts firing with the case's, and checks that
// their annotations expand.
func checkFiring(t *testing.T, c alertCase, firing []*rules.Alert) {
	t.Helper()
	if len(firing) != len(c.firing) {
		t.Fatalf("at %s: %d alerts firing, want %d: %v", c.at, len(firing), len(c.firing), labelsOf(firing))
	}
	for _, want := range c.firing {
		if !slices.ContainsFunc(firing, func(a *rules.Alert) bool { return hasLabels(a.Labels, want) }) {
			t.Errorf("at %s: no alert with labels %v firing; firing: %v", c.at, want, labelsOf(firing))
		}
	}
	for _, a := range firing {
		a.Annotations.Range(func(l labels.Label) {
			if strings.Contains(l.Value, "error expanding template") || strings.Contains(l.Value, "<no value>") {
				t.Errorf("annotation %s does not expand: %s", l.Name, l.Value)
			}
		})
	}
}

// evaluate loads the case's series and evaluates the alerting rule r
// every interval from the epoch to c.at, as Prometheus' rule manager
// does, and returns the alerts firing at c.at.
func evaluate(t *testing.T, r rulefmt.Rule, c alertCase) []*rules.Alert {
	t.Helper()
	storage := promqltest.LoadedStorage(t, fmt.Sprintf("load %s\n%s\n", model.Duration(c.interval), indent(c.series)))
	t.Cleanup(func() { _ = storage.Close() })
	engine := promql.NewEngine(promql.EngineOpts{
		MaxSamples: 1_000_000,
		Timeout:    time.Minute,
		Parser:     parser.NewParser(parser.Options{}),
	})
	t.Cleanup(func() { _ = engine.Close() })

	expr, err := parser.NewParser(parser.Options{}).ParseExpr(r.Expr)
	if err != nil {
		t.Fatalf("%s: %v", r.Alert, err)
	}
	rule := rules.NewAlertingRule(r.Alert, expr, time.Duration(r.For), time.Duration(r.KeepFiringFor),
		labels.FromMap(r.Labels), labels.FromMap(r.Annotations), labels.EmptyLabels(), "", true,
		slog.New(slog.DiscardHandler))
	query := rules.EngineQueryFunc(engine, storage)
	start := time.Unix(0, 0).UTC()
	for ts := start; !ts.After(start.Add(c.at)); ts = ts.Add(c.interval) {
		if _, err := rule.Eval(context.Background(), 0, ts, query, nil, 0); err != nil {
			t.Fatalf("%s at %s: %v", r.Alert, ts.Sub(start), err)
		}
	}
	var firing []*rules.Alert
	for _, a := range rule.ActiveAlerts() {
		if a.State == rules.StateFiring {
			firing = append(firing, a)
		}
	}
	return firing
}

// loadRules parses the spec of the PrometheusRule in
// config/prometheus/prometheus_rule.yaml with rulefmt, as Prometheus loads
// a rule file.
func loadRules(t *testing.T) *rulefmt.RuleGroups {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "config", "prometheus", "prometheus_rule.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rule struct {
		Spec map[string]any `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &rule); err != nil {
		t.Fatal(err)
	}
	spec, err := yaml.Marshal(rule.Spec)
	if err != nil {
		t.Fatal(err)
	}
	groups, errs := rulefmt.Parse(spec, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatalf("the rules do not parse: %v", errs)
	}
	return groups
}

func hasLabels(ls labels.Labels, want map[string]string) bool {
	for k, v := range want {
		if ls.Get(k) != v {
			return false
		}
	}
	return true
}

func labelsOf(alerts []*rules.Alert) []string {
	out := make([]string, 0, len(alerts))
	for _, a := range alerts {
		out = append(out, a.Labels.String())
	}
	return out
}

// indent puts each series line under the load command, as promqltest wants.
func indent(series string) string {
	var b strings.Builder
	for _, line := range strings.Split(series, "\n") {
		b.WriteString("  " + strings.TrimSpace(line) + "\n")
	}
	return b.String()
}
