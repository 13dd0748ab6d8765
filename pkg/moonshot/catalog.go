package moonshot

import (
	"slices"
	"sync"
)

// Catalog is the built-in model table refined by what GET /models last said. The table is the
// fallback; the server's context length and capabilities win, and a model it lists is served.
// A Client keeps one and refines it on every Models call; the proxy can keep its own and
// Refine it on a schedule. It is safe for concurrent use.
type Catalog struct {
	mu     sync.RWMutex
	remote map[string]RemoteModel
	order  []string
}

// NewCatalog returns a catalog that knows only the built-in table.
func NewCatalog() *Catalog { return &Catalog{} }

// Refine replaces what the catalog knows from the server with list (one GET /models answer).
// An empty list keeps the previous answer: a server that lists nothing has told us nothing.
func (c *Catalog) Refine(list []RemoteModel) {
	if len(list) == 0 {
		return
	}
	remote := make(map[string]RemoteModel, len(list))
	order := make([]string, 0, len(list))
	for _, m := range list {
		if _, dup := remote[m.ID]; !dup {
			order = append(order, m.ID)
		}
		remote[m.ID] = m
	}
	c.mu.Lock()
	c.remote, c.order = remote, order
	c.mu.Unlock()
}

// Remote returns the server's description of id, or nil when the last GET /models did not
// list it (or none was made).
func (c *Catalog) Remote(id string) *RemoteModel {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	m, ok := c.remote[StripProvider(id)]
	if !ok {
		return nil
	}
	return &m
}

// Listed returns the ids of the last GET /models answer, in its order.
func (c *Catalog) Listed() []string {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Clone(c.order)
}

// Lookup is LookupModel refined by the server's description of the model. ok is true when
// either the table or the server knows the id.
func (c *Catalog) Lookup(id string) (ModelSpec, bool) {
	spec, known := LookupModel(id)
	remote := c.Remote(id)
	return spec.Refine(remote), known || remote != nil
}
