package iostreams

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadSecretFromTestStreams(t *testing.T) {
	ios, in, out, errOut := Test()
	ios.SetStdinTTY(true)
	ios.SetStdoutTTY(true)
	in.WriteString("sk-abcdef0123456789\r\nnext line\n")

	got, err := ios.ReadSecret(context.Background(), "API key: ")
	if err != nil || got != "sk-abcdef0123456789" {
		t.Fatalf("ReadSecret = %q, %v", got, err)
	}
	if errOut.String() != "API key: \n" || out.Len() != 0 {
		t.Errorf("stderr %q, stdout %q: want only the prompt and a newline, never the secret", errOut, out)
	}
	if in.String() != "next line\n" {
		t.Errorf("ReadSecret consumed past its line: %q left", in)
	}

	// The last line may lack a newline; nothing at all is an error.
	in.Reset()
	in.WriteString("last")
	if got, err := ios.ReadSecret(context.Background(), ""); got != "last" || err != nil {
		t.Errorf("ReadSecret at EOF = %q, %v", got, err)
	}
	if _, err := ios.ReadSecret(context.Background(), ""); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("ReadSecret with no input = %v", err)
	}
}

func TestReadSecretNeedsTerminal(t *testing.T) {
	ios, in, _, errOut := Test()
	in.WriteString("sk-from-a-pipe\n")
	if _, err := ios.ReadSecret(context.Background(), "API key: "); !errors.Is(err, ErrNoTerminal) {
		t.Errorf("ReadSecret without a terminal = %v, want ErrNoTerminal", err)
	}
	if errOut.Len() != 0 || in.Len() == 0 {
		t.Errorf("ReadSecret without a terminal prompted (%q) or read stdin", errOut)
	}
}

func TestReadSecretStopsSpinner(t *testing.T) {
	ios, in, _, errOut := Test()
	ios.SetStdinTTY(true)
	ios.SetStderrTTY(true)
	in.WriteString("x\n")
	ios.StartSpinner("loading")
	if _, err := ios.ReadSecret(context.Background(), "Key: "); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(errOut.String(), eraseLine+showCursor+"Key: \n") {
		t.Errorf("stderr = %q: the spinner must be gone, cursor shown, before the prompt", errOut)
	}
}

func TestReadLine(t *testing.T) {
	ios, in, out, errOut := Test()
	in.WriteString("cn\r\nrest\n")
	if _, err := ios.ReadLine(context.Background(), "Region: "); !errors.Is(err, ErrNoTerminal) {
		t.Fatalf("ReadLine without a terminal = %v, want ErrNoTerminal", err)
	}
	if errOut.Len() != 0 {
		t.Fatalf("ReadLine without a terminal prompted: %q", errOut)
	}
	ios.SetStdinTTY(true)
	got, err := ios.ReadLine(context.Background(), "Region: ")
	if err != nil || got != "cn" {
		t.Fatalf("ReadLine = %q, %v", got, err)
	}
	if errOut.String() != "Region: " || out.Len() != 0 || in.String() != "rest\n" {
		t.Errorf("stderr %q, stdout %q, left %q", errOut, out, in)
	}
}

func TestReadLineCancelled(t *testing.T) {
	ios, _, _, errOut := Test()
	ios.SetStdinTTY(true)
	r, w := io.Pipe() // never written: the read blocks like an idle terminal
	defer w.Close()
	ios.In = r
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ios.ReadLine(ctx, "Model: "); !errors.Is(err, context.Canceled) {
		t.Fatalf("ReadLine after cancel = %v", err)
	}
	if errOut.String() != "Model: \n" {
		t.Errorf("stderr = %q", errOut)
	}
}
