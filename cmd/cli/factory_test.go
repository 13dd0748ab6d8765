package cli

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/moonchat/moonchat/pkg/iostreams"
)

func TestHistoryOpensOnceAndClosesWithTheFactory(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_DATA_HOME", dir)
	db := filepath.Join(dir, "moonchat", "history.db")
	ios, _, _, _ := iostreams.Test()

	unused := New(ios)
	if err := unused.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Fatalf("closing a factory that never used the history created it: %v", err)
	}
	if _, err := unused.History(); !errors.Is(err, errHistoryClosed) {
		t.Errorf("History after Close: %v", err)
	}

	f := New(ios)
	first, err := f.History()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := f.History(); again != first {
		t.Error("History opened the database twice")
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := first.Latest(t.Context()); err == nil {
		t.Error("the store still works after Close")
	}
	if _, err := f.History(); !errors.Is(err, errHistoryClosed) {
		t.Errorf("History after Close: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
}
