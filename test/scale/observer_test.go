//go:build scale

package scale

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// conditionFloor is the condition the floor (test/scale/floor) writes.
const conditionFloor = "ScaleFloor"

// summary is what the benchmark needs of an object's latest version: it
// keeps this, not the object, so that watching 70,000 objects costs little
// memory.
type summary struct {
	kind        string
	generation  int64
	observedGen int64
	readyGen    int64 // the Ready condition's observedGeneration; -1 without one
	floorGen    int64 // the ScaleFloor condition's; -1 without one
	conditions  int
	phase       v1alpha1.ActivationPhase // activations
	billedSales v1alpha1.DerivedMoney    // publishers
	seenAt      time.Time                // when the watch delivered this version
}

// Checks: does an object show what a run writes, for its generation?
func byOperator(s *summary) bool { return s.observedGen == s.generation && s.readyGen == s.generation }
func byFloor(s *summary) bool    { return s.floorGen == s.generation }
func wiped(s *summary) bool      { return s.conditions == 0 && s.observedGen == 0 }

func summarize(obj client.Object, now time.Time) *summary {
	s := &summary{generation: obj.GetGeneration(), seenAt: now}
	var conds []metav1.Condition
	switch o := obj.(type) {
	case *v1alpha1.RewardsProgram:
		s.kind, s.observedGen, conds = "RewardsProgram", o.Status.ObservedGeneration, o.Status.Conditions
	case *v1alpha1.Publisher:
		s.kind, s.observedGen, conds = "Publisher", o.Status.ObservedGeneration, o.Status.Conditions
		s.billedSales = o.Status.BilledSales
	case *v1alpha1.Offer:
		s.kind, s.observedGen, conds = "Offer", o.Status.ObservedGeneration, o.Status.Conditions
	case *v1alpha1.SalesRecord:
		s.kind, s.observedGen, conds = "SalesRecord", o.Status.ObservedGeneration, o.Status.Conditions
	case *v1alpha1.BenefitActivation:
		s.kind, s.observedGen, conds = "BenefitActivation", o.Status.ObservedGeneration, o.Status.Conditions
		s.phase = o.Status.Phase
	}
	s.conditions = len(conds)
	s.readyGen, s.floorGen = -1, -1
	if c := meta.FindStatusCondition(conds, v1alpha1.ConditionReady); c != nil {
		s.readyGen = c.ObservedGeneration
	}
	if c := meta.FindStatusCondition(conds, conditionFloor); c != nil {
		s.floorGen = c.ObservedGeneration
	}
	return s
}

// observer follows the five kinds with one watch each (no polling) and
// keeps each object's summary, how many of them pass the current check,
// and how many MODIFIED events arrived since the last reset: the status
// writes of a run.
type observer struct {
	c       client.WithWatch
	t       *testing.T
	running sync.WaitGroup // the watches

	mu        sync.Mutex
	objs      map[string]*summary // by kind/namespace/name
	check     func(*summary) bool
	passing   int
	allAt     time.Time // when the last object passed the check
	modified  map[string]int
	expiredAt map[string]time.Time // activations: when first seen Expired
	changed   chan struct{}        // closed and replaced on every event
}

func key(kind, ns, name string) string { return kind + "/" + ns + "/" + name }

func newObserver(t *testing.T, c client.WithWatch) *observer {
	return &observer{c: c, t: t, objs: map[string]*summary{}, check: wiped, modified: map[string]int{},
		expiredAt: map[string]time.Time{}, changed: make(chan struct{})}
}

// start lists each kind (in pages) and then watches it from the list's
// resourceVersion until ctx ends. It returns once every list is done.
func (o *observer) start(ctx context.Context) error {
	lists := []client.ObjectList{&v1alpha1.RewardsProgramList{}, &v1alpha1.PublisherList{}, &v1alpha1.OfferList{},
		&v1alpha1.SalesRecordList{}, &v1alpha1.BenefitActivationList{}}
	for _, l := range lists {
		rv, err := o.list(ctx, l)
		if err != nil {
			return err
		}
		o.running.Go(func() { o.follow(ctx, l, rv) })
	}
	return nil
}

func (o *observer) list(ctx context.Context, l client.ObjectList) (string, error) {
	opts := []client.ListOption{client.Limit(500)}
	rv := ""
	for {
		if err := o.c.List(ctx, l, opts...); err != nil {
			return "", err
		}
		if rv == "" {
			rv = l.GetResourceVersion() // the first page's snapshot, which later pages continue
		}
		now := time.Now()
		if err := meta.EachListItem(l, func(obj runtime.Object) error {
			o.update(watch.Added, obj.(client.Object), now)
			return nil
		}); err != nil {
			return "", err
		}
		if l.GetContinue() == "" {
			return rv, nil
		}
		opts = []client.ListOption{client.Limit(500), client.Continue(l.GetContinue())}
	}
}

// follow watches from rv, again from the last version seen when the API
// server closes the watch (it does every 30 to 60 minutes), and lists
// again if that version is too old.
func (o *observer) follow(ctx context.Context, l client.ObjectList, rv string) {
	for ctx.Err() == nil {
		w, err := o.c.Watch(ctx, l, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true}})
		if err != nil {
			if ctx.Err() == nil {
				o.t.Logf("watch %T: %v; again in 1s", l, err)
				time.Sleep(time.Second)
			}
			continue
		}
		for ev := range w.ResultChan() {
			switch ev.Type {
			case watch.Added, watch.Modified, watch.Deleted:
				obj := ev.Object.(client.Object)
				o.update(ev.Type, obj, time.Now())
				rv = obj.GetResourceVersion()
			case watch.Bookmark:
				rv = ev.Object.(client.Object).GetResourceVersion()
			case watch.Error:
				if ctx.Err() != nil {
					break
				}
				err := apierrors.FromObject(ev.Object)
				o.t.Logf("watch %T: %v; listing again", l, err)
				if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
					if newRV, lerr := o.list(ctx, l); lerr == nil {
						rv = newRV
					}
				}
			}
		}
		w.Stop()
	}
}

func (o *observer) update(t watch.EventType, obj client.Object, now time.Time) {
	s := summarize(obj, now)
	k := key(s.kind, obj.GetNamespace(), obj.GetName())
	o.mu.Lock()
	defer o.mu.Unlock()
	old := o.objs[k]
	if old != nil && o.check(old) {
		o.passing--
	}
	if t == watch.Deleted {
		delete(o.objs, k)
	} else {
		o.objs[k] = s
		if o.check(s) {
			o.passing++
		}
	}
	if t == watch.Modified {
		o.modified[s.kind]++
	}
	if s.phase == v1alpha1.ActivationExpired {
		if _, ok := o.expiredAt[k]; !ok {
			o.expiredAt[k] = now
		}
	}
	if o.passing == len(o.objs) && o.allAt.IsZero() {
		o.allAt = now
	}
	close(o.changed)
	o.changed = make(chan struct{})
}

// stop waits for the watches to end once ctx is done, so that none logs
// after the test.
func (o *observer) stop() { o.running.Wait() }

// setCheck makes check the test of convergence from now on, and resets the
// counts of writes.
func (o *observer) setCheck(check func(*summary) bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.check, o.passing, o.allAt = check, 0, time.Time{}
	for _, s := range o.objs {
		if check(s) {
			o.passing++
		}
	}
	if o.passing == len(o.objs) {
		o.allAt = time.Now()
	}
	o.modified = map[string]int{}
}

// writes returns the MODIFIED events since the last setCheck or
// resetWrites, in all and by kind.
func (o *observer) writes() (int, map[string]int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	total, byKind := 0, map[string]int{}
	for k, n := range o.modified {
		total += n
		byKind[k] = n
	}
	return total, byKind
}

func (o *observer) resetWrites() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.modified = map[string]int{}
}

// counts returns how many objects there are, by kind.
func (o *observer) counts() (int, map[string]int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	byKind := map[string]int{}
	for _, s := range o.objs {
		byKind[s.kind]++
	}
	return len(o.objs), byKind
}

// waitAll waits until every object passes the check, and returns when the
// watch delivered the last one.
func (o *observer) waitAll(ctx context.Context, timeout time.Duration, progress func(passing, total int) error) (time.Time, error) {
	deadline := time.After(timeout)
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		o.mu.Lock()
		at, passing, total, ch := o.allAt, o.passing, len(o.objs), o.changed
		o.mu.Unlock()
		if !at.IsZero() {
			return at, nil
		}
		select {
		case <-ch:
		case <-tick.C:
			if err := progress(passing, total); err != nil {
				return time.Time{}, err
			}
		case <-deadline:
			return time.Time{}, fmt.Errorf("after %s, %d of %d objects converged", timeout, passing, total)
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// waitFor waits until ok holds of the summary of the object at k (nil if
// there is none), and returns when the watch delivered that version.
func (o *observer) waitFor(ctx context.Context, timeout time.Duration, k string, ok func(*summary) bool) (time.Time, error) {
	deadline := time.After(timeout)
	for {
		o.mu.Lock()
		s, ch := o.objs[k], o.changed
		var at time.Time
		if ok(s) {
			at = time.Now()
			if s != nil {
				at = s.seenAt
			}
		}
		o.mu.Unlock()
		if !at.IsZero() {
			return at, nil
		}
		select {
		case <-ch:
		case <-deadline:
			return time.Time{}, fmt.Errorf("%s: not there after %s", k, timeout)
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// failing returns the keys of the objects that fail the check.
func (o *observer) failing() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for k, s := range o.objs {
		if !o.check(s) {
			out = append(out, k)
		}
	}
	return out
}

// get returns a copy of the summary of the object at k, if there is one.
func (o *observer) get(k string) (summary, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s, ok := o.objs[k]
	if !ok {
		return summary{}, false
	}
	return *s, true
}

// expired returns when the watch first saw the activation at k Expired.
func (o *observer) expired(k string) (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	at, ok := o.expiredAt[k]
	return at, ok
}
