package controllers

import (
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// Wakeups reconciles objects again at the exact instant their derived state
// changes by itself (an offer going live, a sales line ageing out, a benefit
// expiring). It stands in for RequeueAfter because its timers come from the
// injected clock: a fake clock in tests fires them when it is stepped, so
// time-based behaviour is tested without sleeping.
//
// Timers live in memory only. After a restart, the manager's initial list
// reconciles every object, and each reconcile schedules its next instant
// again from persisted spec and status.
//
// With a resync period, every object is also woken that long after its
// last reconcile even when nothing changes: the reconcile then repairs a
// status that someone else wiped or edited (status-only edits are not
// events the controllers watch) and, finding nothing to change, writes
// nothing. One timer per object spreads the resyncs over time instead of
// a cache-wide burst, and the injected clock makes them testable.
type Wakeups struct {
	clock  clock.WithDelayedExecution
	resync time.Duration
	events chan event.GenericEvent

	mu     sync.Mutex
	timers map[types.NamespacedName]scheduled
}

type scheduled struct {
	at    time.Time
	timer clock.Timer
}

// NewWakeups returns a scheduler using clk that also wakes every object
// resync after its last schedule (0: never).
func NewWakeups(clk clock.WithDelayedExecution, resync time.Duration) *Wakeups {
	return &Wakeups{
		clock:  clk,
		resync: resync,
		events: make(chan event.GenericEvent, 1024),
		timers: map[types.NamespacedName]scheduled{},
	}
}

// Source is the controller source that receives the wake-ups.
func (w *Wakeups) Source() source.Source {
	return source.Channel(w.events, &handler.EnqueueRequestForObject{})
}

// At schedules a reconcile of obj at instant at, or at its next resync if
// that comes first, replacing any earlier schedule for it; a nil at (and no
// resync) cancels the schedule. An instant already past wakes the object
// at once.
func (w *Wakeups) At(obj client.Object, at *time.Time) {
	key := client.ObjectKeyFromObject(obj)
	w.mu.Lock()
	defer w.mu.Unlock()

	if w.resync > 0 {
		if resync := w.clock.Now().Add(w.resync); at == nil || resync.Before(*at) {
			at = &resync
		}
	}

	if s, ok := w.timers[key]; ok {
		if at != nil && s.at.Equal(*at) {
			return
		}
		s.timer.Stop()
		delete(w.timers, key)
	}
	if at == nil {
		return
	}
	// Only the key is needed to enqueue the object. A copy of the whole
	// object, held by its timer until it fires (every object has one, for
	// the resync), doubled the memory the cache takes (a heap profile of
	// make bench-scale: 30% of the live heap).
	target := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	when := *at
	fire := func() {
		w.mu.Lock()
		if s, ok := w.timers[key]; ok && s.at.Equal(when) {
			delete(w.timers, key)
		}
		w.mu.Unlock()
		w.events <- event.GenericEvent{Object: target}
	}
	for {
		now := w.clock.Now()
		d := when.Sub(now)
		if d <= 0 {
			go func() { w.events <- event.GenericEvent{Object: target} }()
			return
		}
		// The callback only starts a goroutine: a fake clock runs AfterFunc
		// callbacks synchronously while holding its own lock, and At holds
		// w.mu while reading that clock, so taking w.mu (or blocking on the
		// channel) inside the callback could deadlock a test stepping the
		// clock while a reconcile schedules its next instant.
		timer := w.clock.AfterFunc(d, func() { go fire() })
		// The timer counts d from the clock's time when it is armed. A clock
		// that moved between reading it and arming the timer (a fake clock
		// stepped by a test meanwhile) would make it fire late by that move,
		// missing the instant: arm it again from the new time. A real clock
		// moves by nanoseconds here, which does not matter.
		if w.clock.Since(now) < time.Millisecond {
			w.timers[key] = scheduled{at: when, timer: timer}
			return
		}
		timer.Stop()
	}
}

// Forget cancels any schedule for the object with this key.
func (w *Wakeups) Forget(key types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s, ok := w.timers[key]; ok {
		s.timer.Stop()
		delete(w.timers, key)
	}
}
