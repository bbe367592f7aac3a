package health

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/testenv/build"
)

var updateHealthYAML = flag.Bool("update", false, "rewrite config/argocd/health.yaml from config/argocd/health/*.lua")

// TestArgoCDHealthYAML: health.yaml is generated from the .lua files, and
// the scripts it embeds are exactly those files.
func TestArgoCDHealthYAML(t *testing.T) {
	scripts, err := readScripts()
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := renderHealthYAML(scripts)
	if err != nil {
		t.Fatal(err)
	}
	if *updateHealthYAML {
		if err := os.WriteFile(healthYAMLPath, rendered, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(healthYAMLPath)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(rendered), string(got)); diff != "" {
		t.Errorf("%s is not generated from the scripts; run\n  go test ./test/health/ -run TestArgoCDHealthYAML -update\n(-want +got):\n%s", healthYAMLPath, diff)
	}

	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict(got, &cm); err != nil {
		t.Fatalf("%s: %v", healthYAMLPath, err)
	}
	if cm.Kind != "ConfigMap" || cm.APIVersion != "v1" || cm.Name != "argocd-cm" {
		t.Errorf("%s is a %s %s named %q, want a v1 ConfigMap named argocd-cm", healthYAMLPath, cm.APIVersion, cm.Kind, cm.Name)
	}
	want := map[string]string{}
	for k, s := range scripts {
		want[argoKey(v1alpha1.GroupVersion.Group, k)] = s
	}
	if diff := cmp.Diff(want, cm.Data); diff != "" {
		t.Errorf("%s: the embedded scripts differ from config/argocd/health/*.lua (-want +got):\n%s", healthYAMLPath, diff)
	}
}

// TestArgoCDHealthScriptsShareCommonPart: the part every script shares
// (has the operator observed the spec?) is the same text in each, so that
// a fix to one reaches all.
func TestArgoCDHealthScriptsShareCommonPart(t *testing.T) {
	scripts, err := readScripts()
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "-- BEGIN common part", "-- END common part."
	var first, firstKind string
	for _, k := range kinds {
		s := scripts[k]
		i, j := strings.Index(s, begin), strings.Index(s, end)
		if i < 0 || j < i {
			t.Fatalf("%s: no %q ... %q section", scriptPath(k), begin, end)
		}
		common := s[i : j+len(end)]
		if first == "" {
			first, firstKind = common, k
			continue
		}
		if diff := cmp.Diff(first, common); diff != "" {
			t.Errorf("the common part of %s differs from %s's (-%s +%s):\n%s", scriptPath(k), scriptPath(firstKind), firstKind, k, diff)
		}
	}
}

// synthetic builds an object of kind as the API server returns it.
func synthetic(kind string, generation int64, status map[string]interface{}) map[string]interface{} {
	obj := map[string]interface{}{
		"apiVersion": v1alpha1.GroupVersion.String(),
		"kind":       kind,
		"metadata":   map[string]interface{}{"name": "x", "namespace": "ns", "generation": generation},
		"spec":       map[string]interface{}{},
	}
	if status != nil {
		obj["status"] = status
	}
	return obj
}

// observedStatus is a status observed at generation with these conditions
// (and phase, when not empty).
func observedStatus(generation int64, phase string, conds ...map[string]interface{}) map[string]interface{} {
	st := map[string]interface{}{"observedGeneration": generation}
	if phase != "" {
		st["phase"] = phase
	}
	if len(conds) > 0 {
		list := make([]interface{}, len(conds))
		for i, c := range conds {
			list[i] = c
		}
		st["conditions"] = list
	}
	return st
}

func cond(typ, status, reason, message string, generation int64) map[string]interface{} {
	c := map[string]interface{}{
		"type": typ, "status": status, "observedGeneration": generation,
		"lastTransitionTime": "2026-11-21T09:00:00Z",
	}
	if reason != "" {
		c["reason"] = reason
	}
	if message != "" {
		c["message"] = message
	}
	return c
}

// TestArgoCDHealthScripts runs the scripts on objects built by hand: the
// edge cases real objects rarely show.
func TestArgoCDHealthScripts(t *testing.T) {
	scripts, err := readScripts()
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		status string
		// message must contain this.
		message string
	}
	type tc struct {
		kind string
		obj  map[string]interface{}
		want want
	}
	cases := map[string]tc{}
	for _, k := range kinds {
		readyTrue := cond("Ready", "True", "Fine", "all good", 2)
		cases[k+": no status yet"] = tc{k, synthetic(k, 1, nil), want{"Progressing", "Waiting for rewards-operator to reconcile this " + k}}
		cases[k+": empty status"] = tc{k, synthetic(k, 1, map[string]interface{}{}), want{"Progressing", "reconcile this " + k}}
		cases[k+": status defaulted by the schema, observedGeneration 0"] = tc{k, synthetic(k, 1, map[string]interface{}{"observedGeneration": int64(0)}), want{"Progressing", "reconcile this " + k}}
		cases[k+": spec changed since the status"] = tc{k, synthetic(k, 3, observedStatus(2, "", readyTrue)), want{"Progressing", "observe generation 3 (status is from generation 2)"}}
		cases[k+": no Ready condition"] = tc{k, synthetic(k, 2, observedStatus(2, "")), want{"Progressing", "Ready condition"}}
		cases[k+": Ready from an older generation"] = tc{k, synthetic(k, 2, observedStatus(2, "", cond("Ready", "True", "Fine", "old", 1))), want{"Progressing", "Ready condition"}}
		cases[k+": Ready Unknown"] = tc{k, synthetic(k, 2, observedStatus(2, "", cond("Ready", "Unknown", "Checking", "hold on", 2))), want{"Progressing", "Checking: hold on"}}
		cases[k+": Ready True, no phase"] = tc{k, synthetic(k, 2, observedStatus(2, "", readyTrue)), want{"Healthy", "Fine: all good"}}
		cases[k+": Ready True without reason or message"] = tc{k, synthetic(k, 2, observedStatus(2, "", cond("Ready", "True", "", "", 2))), want{"Healthy", ""}}
		cases[k+": no metadata.generation"] = tc{k, map[string]interface{}{"kind": k, "status": observedStatus(1, "", readyTrue)}, want{"Healthy", "Fine"}}
	}
	for name, c := range map[string]tc{
		"RewardsProgram: Ready False": {"RewardsProgram", synthetic("RewardsProgram", 1, observedStatus(1, "", cond("Ready", "False", "UnknownBenefit", "tier 1 names x", 1))), want{"Degraded", "UnknownBenefit: tier 1 names x"}},
		"Publisher: program missing":  {"Publisher", synthetic("Publisher", 1, observedStatus(1, "", cond("Ready", "False", "ProgramNotFound", "no program", 1))), want{"Degraded", "ProgramNotFound: no program"}},
		"Publisher: a violation recorded": {"Publisher", synthetic("Publisher", 1, func() map[string]interface{} {
			st := observedStatus(1, "", cond("Ready", "True", "TierComputed", "Tier 1 reached", 1))
			st["standing"] = "Violation"
			return st
		}()), want{"Healthy", "Tier 1 reached; standing: Violation"}},
		"Offer: publisher missing": {"Offer", synthetic("Offer", 1, observedStatus(1, "", cond("Ready", "False", "PublisherNotFound", "no publisher", 1))), want{"Degraded", "PublisherNotFound"}},
		"Offer: follow-up needed": {"Offer", synthetic("Offer", 1, observedStatus(1, "",
			cond("Ready", "True", "Live", "live since then", 1), cond("FollowUpNeeded", "True", "NotContacted", "check who owns the offer", 1))), want{"Healthy", "Live: live since then; follow-up needed: check who owns the offer"}},
		"Offer: follow-up no longer needed": {"Offer", synthetic("Offer", 1, observedStatus(1, "",
			cond("Ready", "True", "Live", "live", 1), cond("FollowUpNeeded", "False", "NotNeeded", "no follow-up needed", 1))), want{"Healthy", "Live: live"}},
		"SalesRecord: excluded as fraud": {"SalesRecord", synthetic("SalesRecord", 1, observedStatus(1, "", cond("Ready", "True", "FraudProven", "proven fraud", 1))), want{"Healthy", "FraudProven"}},
		"SalesRecord: no exchange rate":  {"SalesRecord", synthetic("SalesRecord", 1, observedStatus(1, "", cond("Ready", "False", "NoExchangeRate", "no EUR rate", 1))), want{"Degraded", "NoExchangeRate: no EUR rate"}},
		"BenefitActivation: Active": {"BenefitActivation", synthetic("BenefitActivation", 1, observedStatus(1, "Active",
			cond("Ready", "True", "Active", "benefit is active", 1), cond("ContactOverdue", "False", "ContactPending", "due soon", 1))), want{"Healthy", "Active: benefit is active"}},
		"BenefitActivation: Active as granted, its offer deleted": {"BenefitActivation", synthetic("BenefitActivation", 1, observedStatus(1, "Active",
			cond("Ready", "False", "OfferNotFound", `offer "saas" does not exist`, 1))), want{"Degraded", `Active as granted, OfferNotFound: offer "saas" does not exist`}},
		"BenefitActivation: Active, contact overdue": {"BenefitActivation", synthetic("BenefitActivation", 1, observedStatus(1, "Active",
			cond("Ready", "True", "Active", "benefit is active", 1), cond("ContactOverdue", "True", "ContactOverdue", "was due", 1))), want{"Healthy", "benefit is active; contact overdue: was due"}},
		"BenefitActivation: Pending on the tier":  {"BenefitActivation", synthetic("BenefitActivation", 1, observedStatus(1, "Pending", cond("Ready", "False", "TierNotReached", "needs tier 2", 1))), want{"Progressing", "Pending, TierNotReached: needs tier 2"}},
		"BenefitActivation: Pending on violation": {"BenefitActivation", synthetic("BenefitActivation", 1, observedStatus(1, "Pending", cond("Ready", "False", "Violation", "a violation", 1))), want{"Progressing", "Pending, Violation"}},
		"BenefitActivation: Pending, no reason":   {"BenefitActivation", synthetic("BenefitActivation", 1, observedStatus(1, "Pending", cond("Ready", "False", "", "", 1))), want{"Progressing", "Pending"}},
		"BenefitActivation: Pending on a missing offer": {"BenefitActivation", synthetic("BenefitActivation", 1, observedStatus(1, "Pending",
			cond("Ready", "False", "OfferNotFound", "no offer", 1))), want{"Degraded", "Pending, OfferNotFound: no offer"}},
		"BenefitActivation: Pending on an unknown benefit": {"BenefitActivation", synthetic("BenefitActivation", 1, observedStatus(1, "Pending",
			cond("Ready", "False", "UnknownBenefit", "not in the catalog", 1))), want{"Degraded", "UnknownBenefit"}},
		"BenefitActivation: Pending on an invalid program": {"BenefitActivation", synthetic("BenefitActivation", 1, observedStatus(1, "Pending",
			cond("Ready", "False", "ProgramInvalid", "invalid", 1))), want{"Degraded", "ProgramInvalid"}},
		"BenefitActivation: OptedOut": {"BenefitActivation", synthetic("BenefitActivation", 1, observedStatus(1, "OptedOut", cond("Ready", "False", "OptedOut", "spec.optOut is set", 1))), want{"Suspended", "OptedOut: spec.optOut is set"}},
		"BenefitActivation: Expired": {"BenefitActivation", synthetic("BenefitActivation", 1, observedStatus(1, "Expired",
			cond("Ready", "True", "Expired", "the benefit expired", 1))), want{"Healthy", "Expired: the benefit expired"}},
		"BenefitActivation: Revoked": {"BenefitActivation", synthetic("BenefitActivation", 1, observedStatus(1, "Revoked",
			cond("Ready", "False", "Revoked", "revoked (Violation)", 1), cond("Stalled", "True", "Revoked", "revoked (Violation)", 1))), want{"Degraded", "Revoked: revoked (Violation)"}},
	} {
		cases[name] = c
	}

	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := runHealthScript(scripts[c.kind], c.obj)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != c.want.status || !strings.Contains(got.Message, c.want.message) {
				t.Errorf("got %s %q, want %s with a message containing %q", got.Status, got.Message, c.want.status, c.want.message)
			}
		})
	}
}

// TestToLua: the converter keeps JSON's structure and types.
func TestToLua(t *testing.T) {
	obj := map[string]interface{}{
		"s": "text", "i": int64(7), "f": 1.5, "b": true, "n": nil,
		"list": []interface{}{map[string]interface{}{"k": "first"}, "second"},
		"m":    map[string]interface{}{"deep": map[string]interface{}{"x": int64(2)}},
	}
	script := `
local parts = {
  obj.s, tostring(obj.i + 1), tostring(obj.f * 2), tostring(obj.b), tostring(obj.n),
  obj.list[1].k, obj.list[2], tostring(#obj.list), tostring(obj.m.deep.x),
}
return {status = "Healthy", message = table.concat(parts, ",")}
`
	got, err := runHealthScript(script, obj)
	if err != nil {
		t.Fatal(err)
	}
	if want := "text,8,3,true,nil,first,second,2,2"; got.Message != want {
		t.Errorf("got %q, want %q", got.Message, want)
	}
	if _, err := runHealthScript(script, map[string]interface{}{"bad": struct{}{}}); err == nil {
		t.Error("a value of a non-JSON type converted without error")
	}
	if _, err := runHealthScript(`return {status = "Fine"}`, obj); err == nil {
		t.Error("a status Argo CD does not know was accepted")
	}
	// Argo CD does not open the string library for argocd-cm scripts.
	if _, err := runHealthScript(`return {status = string.upper("healthy")}`, obj); err == nil {
		t.Error("the string library is open; Argo CD does not open it")
	}
}

// The scripts on real objects: created in envtest, reconciled by the real
// controllers, read back as Argo CD reads them; the scripts themselves are
// read from an argocd-cm patched with health.yaml, by the key Argo CD
// looks up from the object's group and kind.
var _ = Describe("Argo CD health", Ordered, func() {
	var (
		w       world
		fresh   = map[string]*unstructured.Unstructured{}
		scripts map[string]string
	)

	argoHealthOf := func(u *unstructured.Unstructured) argoHealth {
		key := argoKey(u.GroupVersionKind().Group, u.GetKind())
		script, ok := scripts[key]
		ExpectWithOffset(1, ok).To(BeTrue(), "argocd-cm has no %s", key)
		h, err := runHealthScript(script, u.Object)
		ExpectWithOffset(1, err).NotTo(HaveOccurred(), "%s: %s", describe(u), statusJSON(u))
		AddReportEntry(fmt.Sprintf("Argo CD health of %s", describe(u)), fmt.Sprintf("%s: %s", h.Status, h.Message))
		return h
	}

	BeforeAll(func() {
		stopManager()
		w = newWorld(newNamespace(), fakeClock.Now())
		w.create()
		for _, k := range kinds {
			fresh[k] = get(w.byKind()[k])
		}
	})
	AfterAll(stopManager)

	It("health.yaml patches argocd-cm as `kubectl patch --patch-file` does, keeping its other keys", func() {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "argocd"}}
		if err := k8sClient.Create(bg, ns); !apierrors.IsAlreadyExists(err) {
			Expect(err).NotTo(HaveOccurred())
		}
		cm := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: "argocd", Name: "argocd-cm"},
			Data:       map[string]string{"url": "https://argocd.example.com"},
		}
		Expect(client.IgnoreAlreadyExists(k8sClient.Create(bg, cm))).To(Succeed())

		patch, err := os.ReadFile(healthYAMLPath)
		Expect(err).NotTo(HaveOccurred())
		patchJSON, err := yaml.YAMLToJSON(patch)
		Expect(err).NotTo(HaveOccurred())
		Expect(k8sClient.Patch(bg, cm, client.RawPatch(types.StrategicMergePatchType, patchJSON))).To(Succeed())

		Expect(k8sClient.Get(bg, client.ObjectKeyFromObject(cm), cm)).To(Succeed())
		Expect(cm.Data).To(HaveKeyWithValue("url", "https://argocd.example.com"))
		scripts = map[string]string{}
		for _, k := range kinds {
			key := argoKey(v1alpha1.GroupVersion.Group, k)
			Expect(cm.Data).To(HaveKey(key))
			scripts[key] = cm.Data[key]
		}
		Expect(cm.Data).To(HaveLen(len(kinds) + 1))
	})

	It("says Progressing for every kind right after creation, before any controller has reconciled it", func() {
		for _, k := range kinds {
			og, _, _ := unstructured.NestedInt64(fresh[k].Object, "status", "observedGeneration")
			Expect(og).To(BeZero(), "%s has not been observed yet", k)
			h := argoHealthOf(fresh[k])
			Expect(h.Status).To(Equal("Progressing"), k)
			Expect(h.Message).To(Equal("Waiting for rewards-operator to reconcile this " + k))
		}
	})

	It("says Healthy for every kind once reconciled to Ready=True", func() {
		startManager()
		for k, u := range waitWorldReady(w) {
			h := argoHealthOf(u)
			Expect(h.Status).To(Equal("Healthy"), k)
			Expect(h.Message).To(HavePrefix(readyReasons[k]+": "), k)
		}
	})

	It("says Degraded when a reference is broken, and Progressing for an activation pending on a program prerequisite", func() {
		ns := newNamespace()
		deps, cases := newFailing(ns, w.program.Name, fakeClock.Now())
		create(deps...)
		for _, c := range cases {
			createCase(c)
		}
		for _, c := range cases {
			u := waitReady(c.obj, metav1.ConditionFalse, c.reason)
			h := argoHealthOf(u)
			Expect(h.Status).To(Equal(c.argo), c.name)
			Expect(h.Message).To(ContainSubstring(c.reason+": "+readyOf(u)["message"].(string)), c.name)
		}
	})

	It("says Suspended for an OptedOut activation", func() {
		act := build.Activation(w.activation.Namespace, "contoso-opted-out", w.offer.Name, "case-study")
		act.Spec.OptOut = true
		create(act)
		h := argoHealthOf(waitPhase(act, v1alpha1.ActivationOptedOut))
		Expect(h.Status).To(Equal("Suspended"))
		Expect(h.Message).To(HavePrefix("OptedOut: spec.optOut is set"))
	})

	It("says Degraded for a Revoked activation", func() {
		h := argoHealthOf(revokeActivation(newNamespace(), w.program.Name, fakeClock.Now()))
		Expect(h.Status).To(Equal("Degraded"))
		Expect(h.Message).To(HavePrefix("Revoked: revoked (Violation)"))
	})

	It("says Progressing while a spec change is not yet observed, and Healthy again once it is", func() {
		stopManager()
		touchSpecs(w)
		for _, k := range kinds {
			h := argoHealthOf(get(w.byKind()[k]))
			Expect(h.Status).To(Equal("Progressing"), k)
			Expect(h.Message).To(Equal("Waiting for rewards-operator to observe generation 2 (status is from generation 1)"))
		}
		startManager()
		for k, u := range waitWorldReady(w) {
			Expect(argoHealthOf(u).Status).To(Equal("Healthy"), k)
		}
	})

	It("says Healthy for an Expired activation: a finished lifecycle, not a failure", func() {
		u := expireActivation(newNamespace(), w.program.Name)
		h := argoHealthOf(u)
		Expect(h.Status).To(Equal("Healthy"))
		Expect(h.Message).To(HavePrefix("Expired: the benefit expired at "))
	})
})
