package render

import (
	"bytes"
	"errors"
	"testing"
)

// TestPlainByteExact: piped output is exactly the bytes of the answer, invalid UTF-8, CR,
// escape characters and a missing final newline included, however it was cut.
func TestPlainByteExact(t *testing.T) {
	doc := []byte("# Title\r\n\n\xff\xfe invalid \xe4\xb8 utf-8, \x1b[31m an escape, a tab\t and no final newline")
	for _, c := range chunkers {
		var out bytes.Buffer
		p := NewPlain(&out)
		for i, piece := range c.cut(doc, 3) {
			if _, err := p.Write(piece); err != nil {
				t.Fatal(err)
			}
			if i%5 == 0 {
				if err := p.Flush(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), doc) {
			t.Errorf("%s: got %q, want %q", c.name, out.Bytes(), doc)
		}
	}
}

// TestPlainBuffers: small writes are held until Flush, and WriteString copies nothing extra.
func TestPlainBuffers(t *testing.T) {
	var out bytes.Buffer
	p := NewPlain(&out)
	p.WriteString("hello ")
	p.Write([]byte("world"))
	if out.Len() != 0 {
		t.Errorf("written before Flush: %q", out.Bytes())
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	if out.String() != "hello world" {
		t.Errorf("got %q", out.String())
	}
	if err := p.Interrupt(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.WriteString("late"); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Interrupt: %v, want ErrClosed", err)
	}
}

func TestPlainWriteError(t *testing.T) {
	p := NewPlain(failWriter{})
	p.WriteString("x")
	if err := p.Close(); !errors.Is(err, errBrokenPipe) {
		t.Errorf("Close: %v, want the writer's error", err)
	}
}

var _ Renderer = (*Plain)(nil)
var _ Renderer = (*Markdown)(nil)
