package controllers

import (
	"sync"
	"time"

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
type Wakeups struct {
	clock  clock.WithDelayedExecution
	events chan event.GenericEvent

	mu     sync.Mutex
	timers map[types.NamespacedName]scheduled
}

type scheduled struct {
	at    time.Time
	timer clock.Timer
}

// NewWakeups returns a scheduler using clk.
func NewWakeups(clk clock.WithDelayedExecution) *Wakeups {
	return &Wakeups{
		clock:  clk,
		events: make(chan event.GenericEvent, 1024),
		timers: map[types.NamespacedName]scheduled{},
	}
}

// Source is the controller source that receives the wake-ups.
func (w *Wakeups) Source() source.Source {
	return source.Channel(w.events, &handler.EnqueueRequestForObject{})
}

// At schedules a reconcile of obj at instant at, replacing any earlier
// schedule for it; a nil at cancels the schedule. An instant already past
// wakes the object at once.
func (w *Wakeups) At(obj client.Object, at *time.Time) {
	key := client.ObjectKeyFromObject(obj)
	w.mu.Lock()
	defer w.mu.Unlock()

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
	// Only the key is needed to enqueue the object.
	target := obj.DeepCopyObject().(client.Object)
	d := at.Sub(w.clock.Now())
	if d <= 0 {
		go func() { w.events <- event.GenericEvent{Object: target} }()
		return
	}
	when := *at
	w.timers[key] = scheduled{at: when, timer: w.clock.AfterFunc(d, func() {
		w.mu.Lock()
		if s, ok := w.timers[key]; ok && s.at.Equal(when) {
			delete(w.timers, key)
		}
		w.mu.Unlock()
		w.events <- event.GenericEvent{Object: target}
	})}
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
