package config

import (
	"testing"
)

// The Key… constants and the table hold the same names, in the same order.
func TestNamesMatchTheTable(t *testing.T) {
	keys := Keys()
	if len(keys) != len(names) {
		t.Fatalf("%d keys in the table, %d Key… constants", len(keys), len(names))
	}
	for i, k := range keys {
		if string(names[i]) != k.Name {
			t.Errorf("table entry %d is %q, constant %d is %q", i, k.Name, i, names[i])
		}
	}
}
