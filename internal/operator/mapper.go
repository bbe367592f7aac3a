package operator

import (
	"net/http"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// mappingMemo is a RESTMapper that remembers the mapping of each kind and
// version it has found. A cache limited to namespaces (Shard) asks on every
// read whether the object's kind is namespaced, and controller-runtime's
// dynamic mapper answers each time through its layers of wrappers, locks
// and copies: for the operator, which reads its offer, publisher and
// program for every sales line, that was a cost per read that a
// whole-cluster cache does not have.
//
// It remembers nothing the dynamic mapper would have answered differently:
// that mapper, too, keeps what it found and asks the API server again only
// for a kind it does not know. A CRD's scope and resource name cannot
// change while it exists.
type mappingMemo struct {
	meta.RESTMapper
	mappings sync.Map // mappingKey → meta.RESTMapping
}

type mappingKey struct {
	kind    schema.GroupKind
	version string
}

// newMappingMemo returns a MapperProvider: controller-runtime's dynamic
// mapper, remembered.
func newMappingMemo(cfg *rest.Config, httpClient *http.Client) (meta.RESTMapper, error) {
	m, err := apiutil.NewDynamicRESTMapper(cfg, httpClient)
	if err != nil {
		return nil, err
	}
	return &mappingMemo{RESTMapper: m}, nil
}

// RESTMapping is the mapper's, remembered when asked for one version. Each
// caller gets its own copy.
func (m *mappingMemo) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	if len(versions) != 1 {
		return m.RESTMapper.RESTMapping(gk, versions...)
	}
	key := mappingKey{kind: gk, version: versions[0]}
	if found, ok := m.mappings.Load(key); ok {
		mapping := found.(meta.RESTMapping)
		return &mapping, nil
	}
	mapping, err := m.RESTMapper.RESTMapping(gk, versions...)
	if err != nil {
		return nil, err
	}
	m.mappings.Store(key, *mapping)
	return mapping, nil
}
