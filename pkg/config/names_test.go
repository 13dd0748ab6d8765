package config

import (
	"strings"
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

// Asking for a key that does not exist is a bug in the caller: it must not quietly yield a
// default (as "max_retriess" once did) but stop the test that reaches it.
func TestValueOfAnUnknownKeyPanics(t *testing.T) {
	c := mustLoad(t)
	for _, name := range []Name{"max_retriess", "", "Model"} {
		func() {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.Contains(msg, `unknown key "`+string(name)+`"`) {
					t.Errorf("Value(%q): recovered %v, want a panic naming the key", name, r)
				}
			}()
			v := c.Value(name)
			t.Errorf("Value(%q) returned %+v", name, v)
		}()
	}
	if v := c.Value(KeyMaxRetries); v.Key.Name != "max_retries" || v.Int() != 2 {
		t.Errorf("Value(KeyMaxRetries) = %+v (Int %d), want the default 2", v, v.Int())
	}
}
