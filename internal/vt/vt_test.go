package vt

import (
	"slices"
	"testing"
)

func TestResizeReflows(t *testing.T) {
	v := New(10, 5)
	v.Write([]byte("abcdefgh\nxy"))
	v.Resize(3, 5)
	if got, want := v.Screen(), []string{"abc", "def", "gh", "xy"}; !slices.Equal(got, want) {
		t.Fatalf("screen at 3 columns %q, want %q", got, want)
	}
	if v.Row() != 3 || v.col != 2 {
		t.Fatalf("cursor at %d,%d, want 3,2", v.Row(), v.col)
	}
	// Two rows up is the start of "gh"'s line ("abcdefgh" is one line): erasing from there
	// removes the second half of it.
	v.Write([]byte("\r\x1b[2A\x1b[J"))
	if got, want := v.Screen(), []string{"abc", ""}; !slices.Equal(got, want) {
		t.Fatalf("after erasing %q, want %q", got, want)
	}
	v.Resize(10, 5)
	if got, want := v.Lines(), []string{"abc"}; !slices.Equal(got, want) {
		t.Fatalf("lines %q, want %q", got, want)
	}
}

func TestResizeCursorAfterAFullRow(t *testing.T) {
	v := New(10, 5)
	v.Write([]byte("abcdef"))
	v.Resize(3, 5)
	// The cursor waits after "def", at the end of the second row.
	if v.Row() != 1 || !v.pending {
		t.Fatalf("cursor at row %d, pending %v", v.Row(), v.pending)
	}
	v.Write([]byte("g"))
	if got, want := v.Lines(), []string{"abcdefg"}; !slices.Equal(got, want) {
		t.Fatalf("lines %q, want %q", got, want)
	}
}

func TestShrinkingHeightScrolls(t *testing.T) {
	v := New(10, 5)
	v.Write([]byte("1\n2\n3\n4\n5"))
	v.Resize(10, 2)
	v.Write([]byte("\x1b[1A"))
	if len(v.Errs) != 0 {
		t.Fatalf("one row up from the bottom of a 2-row screen: %v", v.Errs)
	}
	v.Write([]byte("\x1b[1A"))
	if len(v.Errs) != 1 {
		t.Fatalf("moving into the scrollback was not reported: %v", v.Errs)
	}
}
