// Package controllers holds the reconcilers of rewards-operator. They are
// thin: each gathers objects from the informer cache, asks the pure
// functions of internal/rewards what the status should be, writes it only
// when it changed, and schedules the next instant it changes by itself.
package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
	"github.com/marketplace-rewards/rewards-operator/internal/rewards"
)

// Field indexes over the informer cache, so that reconcilers and event
// mappers find related objects without listing from the API server.
const (
	// indexOfferPublisher indexes Offers by spec.publisherRef.name.
	indexOfferPublisher = "spec.publisherRef.name"
	// indexOfferRef indexes SalesRecords and BenefitActivations by
	// spec.offerRef.name.
	indexOfferRef = "spec.offerRef.name"
	// indexPublisherProgram indexes Publishers by the program they follow
	// (spec.programRef.name, or "default").
	indexPublisherProgram = "programName"
	// indexGrantPublisher indexes BenefitGrants by spec.publisher.
	indexGrantPublisher = "spec.publisher"
)

// SetupIndexes registers the field indexes every controller relies on.
func SetupIndexes(ctx context.Context, mgr manager.Manager) error {
	namespaced := []struct {
		obj     client.Object
		field   string
		extract func(client.Object) string
	}{
		{&v1alpha1.Offer{}, indexOfferPublisher, func(o client.Object) string { return o.(*v1alpha1.Offer).Spec.PublisherRef.Name }},
		{&v1alpha1.SalesRecord{}, indexOfferRef, func(o client.Object) string { return o.(*v1alpha1.SalesRecord).Spec.OfferRef.Name }},
		{&v1alpha1.BenefitActivation{}, indexOfferRef, func(o client.Object) string { return o.(*v1alpha1.BenefitActivation).Spec.OfferRef.Name }},
		{&v1alpha1.BenefitGrant{}, indexGrantPublisher, func(o client.Object) string { return o.(*v1alpha1.BenefitGrant).Spec.Publisher }},
	}
	for _, idx := range namespaced {
		if err := indexInNamespaces(ctx, mgr.GetCache(), idx.obj, idx.field, idx.extract); err != nil {
			return err
		}
	}
	// Listed across namespaces (every publisher following a program), so
	// indexed the usual way.
	return mgr.GetFieldIndexer().IndexField(ctx, &v1alpha1.Publisher{}, indexPublisherProgram, func(o client.Object) []string {
		return []string{programName(o.(*v1alpha1.Publisher))}
	})
}

// indexInNamespaces registers a field index on a namespaced kind that
// answers lists within one namespace (client.InNamespace with
// client.MatchingFields), the only field lists the operator makes of
// these kinds: an offer's lines and activations, a publisher's offers and
// grants all live in its namespace.
//
// controller-runtime's IndexField also files every object under a second,
// cluster-wide key, for field lists across namespaces; with a key per
// sales line that doubled the indexes, a tenth of the operator's heap at
// scale (make bench-scale, heap profile). This registers the same index
// (controller-runtime's name for it and its namespace/value keys, which its
// cache reader looks up) without the cluster-wide half. A field list of
// these kinds across namespaces finds nothing; the envtest suite, whose
// every reconcile lists through these indexes, fails if controller-runtime
// ever names or keys its field indexes differently.
func indexInNamespaces(ctx context.Context, c cache.Cache, obj client.Object, field string, extract func(client.Object) string) error {
	informer, err := c.GetInformer(ctx, obj)
	if err != nil {
		return err
	}
	return informer.AddIndexers(toolscache.Indexers{"field:" + field: func(o any) ([]string, error) {
		obj, ok := o.(client.Object)
		if !ok {
			return nil, fmt.Errorf("indexing %s: %T is not an object", field, o)
		}
		return []string{obj.GetNamespace() + "/" + extract(obj)}, nil
	}})
}

// programName is the RewardsProgram a publisher follows.
func programName(p *v1alpha1.Publisher) string {
	if p.Spec.ProgramRef != nil && p.Spec.ProgramRef.Name != "" {
		return p.Spec.ProgramRef.Name
	}
	return v1alpha1.DefaultProgramName
}

// loadProgram reads the named program from the cache and resolves the
// rules in force (rewards.ProgramStateOf). A missing program is not an
// error: the state says so, and the callers show it as a condition.
// The state's Rules are shared (resolvedPrograms): read only.
func loadProgram(ctx context.Context, c client.Reader, name string) (rewards.ProgramState, error) {
	var prog v1alpha1.RewardsProgram
	if err := c.Get(ctx, types.NamespacedName{Name: name}, &prog, readOnly); err != nil {
		if !apierrors.IsNotFound(err) {
			return rewards.ProgramState{}, err
		}
		return rewards.ProgramStateOf(name, nil), nil
	}
	return resolvedPrograms.stateOf(name, &prog), nil
}

// resolvedPrograms keeps the state last resolved for each program. Every
// reconcile of every kind needs its program's rules, and resolving them
// again each time (and deep-copying the program to do it) was a few
// percent of the operator's CPU in make bench-scale (profiled), for rules
// that change a few times a year.
var resolvedPrograms = &programStates{byName: map[string]programState{}}

// programStates remembers rewards.ProgramStateOf by the program's UID and
// resourceVersion: together they name one content of one object (a
// program deleted and created again has another UID), so a state found
// for both is the state of prog, whatever API server or test it comes from.
type programStates struct {
	mu     sync.Mutex
	byName map[string]programState
}

type programState struct {
	uid             types.UID
	resourceVersion string
	state           rewards.ProgramState
}

// stateOf returns the state of prog, resolved once per resourceVersion.
// prog is only read.
func (p *programStates) stateOf(name string, prog *v1alpha1.RewardsProgram) rewards.ProgramState {
	p.mu.Lock()
	kept, ok := p.byName[name]
	p.mu.Unlock()
	if ok && kept.uid == prog.UID && kept.resourceVersion == prog.ResourceVersion && prog.ResourceVersion != "" {
		return kept.state
	}
	state := rewards.ProgramStateOf(name, prog)
	p.mu.Lock()
	p.byName[name] = programState{uid: prog.UID, resourceVersion: prog.ResourceVersion, state: state}
	p.mu.Unlock()
	return state
}

// getOptional reads an object from the cache; a missing object gives
// (false, nil).
func getOptional(ctx context.Context, c client.Reader, key types.NamespacedName, obj client.Object, opts ...client.GetOption) (bool, error) {
	if err := c.Get(ctx, key, obj, opts...); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// setCondition sets a condition, stamping a transition time from the
// injected clock (meta.SetStatusCondition would use the wall clock) and the
// generation it was computed from. The time keeps whole seconds only, as the
// API server does, so that an unchanged status compares equal after a round
// trip and is not written again.
func setCondition(conds *[]metav1.Condition, now time.Time, generation int64, typ string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(conds, metav1.Condition{
		Type:               typ,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: generation,
		LastTransitionTime: metav1.NewTime(now.Truncate(time.Second)),
	})
}

// boolStatus turns a bool into a condition status.
func boolStatus(b bool) metav1.ConditionStatus {
	if b {
		return metav1.ConditionTrue
	}
	return metav1.ConditionFalse
}

// metaTime converts an optional instant to an API time, nil for nil.
func metaTime(t *time.Time) *metav1.Time {
	if t == nil {
		return nil
	}
	mt := metav1.NewTime(t.Truncate(time.Second))
	return &mt
}

// patchStatusIfChanged writes obj's status when it differs from before's.
// Comparing first is what keeps a steady state free of API writes (and of
// the watch events each write would cause). The write is refused with a
// conflict when the object changed since before was read (WriteStatus).
// obj is not updated from the answer: nothing reads it after the write
// but its kind, namespace and name.
func patchStatusIfChanged(ctx context.Context, c client.Client, before, obj client.Object, statusOf func(client.Object) any) (bool, error) {
	status := statusOf(obj)
	if equality.Semantic.DeepEqual(statusOf(before), status) {
		return false, nil
	}
	if err := WriteStatus(ctx, c, obj, before.GetResourceVersion(), status); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil // deleted meanwhile: nothing left to report on
		}
		return false, err
	}
	return true, nil
}

// WriteStatus sets obj's whole status to status, and is refused with a
// conflict when obj changed since resourceVersion: a status computed from
// a cache that was behind the API server never overwrites a newer one.
//
// It is the cheapest write of a status the operator found (make
// bench-scale, profiled), where the write was most of its CPU:
//   - The status is sent whole, as a JSON patch (RFC 6902) that also sets
//     the resourceVersion it was computed from, which the API server
//     checks. The operator computes every field of a status; a merge patch
//     would first be computed by encoding the object twice, before and
//     after, and comparing the two.
//   - The answer is asked for as the object's metadata only, which the API
//     server sends in protobuf for any kind: decoding the whole object
//     again from JSON, which nothing reads, cost as much as the request.
//     The watch brings the object into the cache anyway.
func WriteStatus(ctx context.Context, c client.Client, obj client.Object, resourceVersion string, status any) error {
	data, err := json.Marshal([]jsonPatchOp{
		{Op: "add", Path: "/metadata/resourceVersion", Value: resourceVersion},
		{Op: "add", Path: "/status", Value: status},
	})
	if err != nil {
		return err
	}
	gvk, err := apiutil.GVKForObject(obj, c.Scheme())
	if err != nil {
		return err
	}
	answer := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: obj.GetNamespace(), Name: obj.GetName()}}
	answer.SetGroupVersionKind(gvk)
	return c.Status().Patch(ctx, answer, client.RawPatch(types.JSONPatchType, data))
}

// jsonPatchOp is one operation of a JSON patch. "add" sets a member of an
// object whether or not it is there already.
type jsonPatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// resultOf ends a reconcile that failed with err. A conflict means the
// cache was behind the API server: the object is reconciled again, after
// the workqueue's backoff, on fresher data, without reporting an error.
func resultOf(err error) (reconcile.Result, error) {
	if apierrors.IsConflict(err) {
		return reconcile.Result{Requeue: true}, nil //nolint:staticcheck // a stale cache is not an error to report
	}
	return reconcile.Result{}, err
}

// requests turns a list of objects into reconcile requests.
func requests[T client.Object](items []T) []reconcile.Request {
	out := make([]reconcile.Request, 0, len(items))
	for _, o := range items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o)})
	}
	return out
}

// ptrs returns pointers to the elements of a slice.
func ptrs[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}

// earliestOf returns the earliest of optional instants, nil if all are nil.
func earliestOf(ts ...*time.Time) *time.Time {
	var out *time.Time
	for _, t := range ts {
		if t != nil && (out == nil || t.Before(*out)) {
			out = t
		}
	}
	return out
}

// keyedMutex is a set of mutexes by key, each created on first use and
// dropped when no one holds or waits for it.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	sync.Mutex
	users int
}

// lock locks key and returns the function that unlocks it.
func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.users++
	k.mu.Unlock()

	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
