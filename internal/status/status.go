// Package status writes the operator's statuses: conditions stamped from
// the injected clock, and a status sent whole only when it changed, refused
// when computed from a cache behind the API server (Flux's runtime/patch
// and cluster-api's util/conditions are the models).
package status

import (
	"context"
	"encoding/json"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// SetCondition sets a condition, stamping a transition time from the
// injected clock (meta.SetStatusCondition would use the wall clock) and the
// generation it was computed from. The time keeps whole seconds only, as the
// API server does, so that an unchanged status compares equal after a round
// trip and is not written again.
func SetCondition(conds *[]metav1.Condition, now time.Time, generation int64, typ string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(conds, metav1.Condition{
		Type:               typ,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: generation,
		LastTransitionTime: metav1.NewTime(now.Truncate(time.Second)),
	})
}

// Bool turns a bool into a condition status.
func Bool(b bool) metav1.ConditionStatus {
	if b {
		return metav1.ConditionTrue
	}
	return metav1.ConditionFalse
}

// ReadyReason is the reason of the Ready condition of conds, "" when there
// is none.
func ReadyReason(conds []metav1.Condition, ready string) string {
	if c := meta.FindStatusCondition(conds, ready); c != nil {
		return c.Reason
	}
	return ""
}

// Time converts an optional instant to an API time, nil for nil.
func Time(t *time.Time) *metav1.Time {
	if t == nil {
		return nil
	}
	mt := metav1.NewTime(t.Truncate(time.Second))
	return &mt
}

// PatchIfChanged writes obj's status when it differs from before's.
// Comparing first is what keeps a steady state free of API writes (and of
// the watch events each write would cause). The write is refused with a
// conflict when the object changed since before was read (Write).
// obj is not updated from the answer: nothing reads it after the write
// but its kind, namespace and name.
func PatchIfChanged(ctx context.Context, c client.Client, before, obj client.Object, statusOf func(client.Object) any) (bool, error) {
	status := statusOf(obj)
	if equality.Semantic.DeepEqual(statusOf(before), status) {
		return false, nil
	}
	if err := Write(ctx, c, obj, before.GetResourceVersion(), status); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil // deleted meanwhile: nothing left to report on
		}
		return false, err
	}
	return true, nil
}

// Write sets obj's whole status to status, and is refused with a
// conflict when obj changed since resourceVersion: a status computed from
// a cache that was behind the API server never overwrites a newer one.
//
// The write is most of what a reconcile costs, so it is made as cheap as
// it can be:
//   - The status is sent whole, as a JSON patch (RFC 6902) that also sets
//     the resourceVersion it was computed from, which the API server
//     checks. The operator computes every field of a status; a merge patch
//     would first be computed by encoding the object twice, before and
//     after, and comparing the two.
//   - The answer is asked for as the object's metadata only, which the API
//     server sends in protobuf for any kind: decoding the whole object
//     again from JSON, which nothing reads, cost as much as the request.
//     The watch brings the object into the cache anyway.
func Write(ctx context.Context, c client.Client, obj client.Object, resourceVersion string, status any) error {
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
