package twofiles

// Shower is called through an interface only: no file depends on another by it.
type Shower interface{ Show() }

type T struct{}

func (T) Show() {}

func (t *T) Top() { down(t) }

func Helper() {}

type Box[V any] struct{ v V }

func (b Box[V]) Get() V { return b.v }
