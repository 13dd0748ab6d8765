package iostreams

import "sync"

// resizeWatchers are the functions to call when the terminal changes size.
type resizeWatchers struct {
	mu   sync.Mutex
	next int
	fs   map[int]func()
}

// OnResize registers f to be called, from another goroutine, each time the terminal changes
// size; f reads the new size with Width, Columns and Height. The returned function removes
// it. The root command reports changes (SIGWINCH) with Resized.
func (s *IOStreams) OnResize(f func()) (stop func()) {
	w := &s.resize
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fs == nil {
		w.fs = map[int]func(){}
	}
	id := w.next
	w.next++
	w.fs[id] = f
	return func() {
		w.mu.Lock()
		delete(w.fs, id)
		w.mu.Unlock()
	}
}

// Resized tells the registered functions that the terminal has a new size. Calls do not
// overlap, and a function removed by its stop is not called after stop returns.
func (s *IOStreams) Resized() {
	w := &s.resize
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range w.fs {
		f()
	}
}

// Columns is the terminal's width in columns, uncapped (Width is the width to wrap at):
// else COLUMNS, else DefaultWidth.
func (s *IOStreams) Columns() int {
	if cols, _ := s.termSize(); cols > 0 {
		return cols
	}
	return DefaultWidth
}
