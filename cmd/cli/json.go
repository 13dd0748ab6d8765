package cli

import (
	"encoding/json"
	"io"
)

// WriteJSON prints v as indented JSON and a newline: the --json output of the commands that
// print lists and documents.
func WriteJSON(w io.Writer, v any) error {
	return encodeJSON(w, v, "  ")
}

// WriteJSONLine prints v as JSON on one line: the --json output of the commands that print
// one small object.
func WriteJSONLine(w io.Writer, v any) error {
	return encodeJSON(w, v, "")
}

// encodeJSON leaves <, > and & as they are, not \u003c and so on: the output is read by
// people and jq, never embedded in HTML, and code in answers and file names stays readable.
func encodeJSON(w io.Writer, v any, indent string) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	return enc.Encode(v)
}
