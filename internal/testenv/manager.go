package testenv

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// ManagerOptions returns the options the suites' managers start from: the
// scheme, no metrics or health probe listener (address "0"), and no check
// that controller names are unique in the process, as the same controllers
// run again in it after a stop, or in a second manager.
func ManagerOptions(scheme *runtime.Scheme) ctrl.Options {
	return ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	}
}

// Verbs of the calls ObservedClient and ObservedCache report.
const (
	VerbGet    = "get"
	VerbList   = "list"
	VerbCreate = "create"
	VerbUpdate = "update"
	VerbPatch  = "patch"
	VerbDelete = "delete"
)

// Call is a call of a manager's client or cache, as ObservedClient and
// ObservedCache report it.
type Call struct {
	Verb string
	// Subresource is the subresource written ("status"), "" for a call on
	// the object itself.
	Subresource string
	// Object is the object read or written; nil for a list. A Get reports
	// it before it is read: only its type is known then, and Key says which.
	Object client.Object
	// Key is the object's key: the one asked for by a Get.
	Key client.ObjectKey
}

// ObservedClient returns a ctrl.Options.NewClient that builds the usual
// client and reports to observe, before making it, each Get, List, Create,
// Update, Patch and Delete and each Update or Patch of a subresource. Other
// calls it does not report. observe may be called concurrently.
func ObservedClient(observe func(Call)) client.NewClientFunc {
	return func(cfg *rest.Config, options client.Options) (client.Client, error) {
		c, err := client.NewWithWatch(cfg, options)
		if err != nil {
			return nil, err
		}
		return interceptor.NewClient(c, interceptor.Funcs{
			Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
				observe(Call{Verb: VerbGet, Object: obj, Key: key})
				return c.Get(ctx, key, obj, opts...)
			},
			List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
				observe(Call{Verb: VerbList})
				return c.List(ctx, list, opts...)
			},
			Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
				observe(Call{Verb: VerbCreate, Object: obj})
				return c.Create(ctx, obj, opts...)
			},
			Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
				observe(Call{Verb: VerbUpdate, Object: obj})
				return c.Update(ctx, obj, opts...)
			},
			Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
				observe(Call{Verb: VerbPatch, Object: obj})
				return c.Patch(ctx, obj, patch, opts...)
			},
			Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
				observe(Call{Verb: VerbDelete, Object: obj})
				return c.Delete(ctx, obj, opts...)
			},
			SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch,
				opts ...client.SubResourcePatchOption,
			) error {
				observe(Call{Verb: VerbPatch, Subresource: sub, Object: obj})
				return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
			},
			SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
				observe(Call{Verb: VerbUpdate, Subresource: sub, Object: obj})
				return c.SubResource(sub).Update(ctx, obj, opts...)
			},
		}), nil
	}
}

// ObservedCache returns a ctrl.Options.NewCache that builds the usual cache
// and reports to observe, before making it, each Get and List made from
// it: the controllers read from the manager's cache directly, and the
// manager's client reads cached kinds from it too. observe may be called
// concurrently.
func ObservedCache(observe func(Call)) cache.NewCacheFunc {
	return func(cfg *rest.Config, opts cache.Options) (cache.Cache, error) {
		c, err := cache.New(cfg, opts)
		if err != nil {
			return nil, err
		}
		return observedCache{Cache: c, observe: observe}, nil
	}
}

// observedCache is a cache reporting its reads.
type observedCache struct {
	cache.Cache
	observe func(Call)
}

func (c observedCache) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.observe(Call{Verb: VerbGet, Object: obj, Key: key})
	return c.Cache.Get(ctx, key, obj, opts...)
}

func (c observedCache) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	c.observe(Call{Verb: VerbList})
	return c.Cache.List(ctx, list, opts...)
}

// Manager is a controller-runtime manager running in a goroutine of the
// test process.
type Manager struct {
	manager.Manager
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// StartManager creates a manager on cfg with opts, lets setup add what it
// is to run (controllers, collectors) and starts it in a goroutine until
// Cancel or Stop. When Start returns, exited (if not nil) is called with
// its error in that goroutine, before Done is closed.
func StartManager(cfg *rest.Config, opts ctrl.Options, setup func(context.Context, manager.Manager) error, exited func(error)) (*Manager, error) {
	mgr, err := ctrl.NewManager(cfg, opts)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	if setup != nil {
		if err := setup(ctx, mgr); err != nil {
			cancel()
			return nil, err
		}
	}
	m := &Manager{Manager: mgr, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		m.err = mgr.Start(ctx)
		if exited != nil {
			exited(m.err)
		}
	}()
	return m, nil
}

// Cancel asks the manager to stop, without waiting until it has.
func (m *Manager) Cancel() { m.cancel() }

// Done is closed once the manager's Start has returned.
func (m *Manager) Done() <-chan struct{} { return m.done }

// Err is what the manager's Start returned, once Done is closed.
func (m *Manager) Err() error {
	select {
	case <-m.done:
		return m.err
	default:
		return nil
	}
}

// Stop stops the manager and waits until its Start has returned.
func (m *Manager) Stop() {
	m.cancel()
	<-m.done
}
