package emulator

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"slices"
	"strings"
	"unicode/utf8"
)

// storedFile is an uploaded file; its text is extracted at upload, as the
// real service does, so the content endpoint only reads it back.
type storedFile struct {
	ID        string `json:"id"`
	Object    string `json:"object"`
	Bytes     int    `json:"bytes"`
	CreatedAt int64  `json:"created_at"`
	Filename  string `json:"filename"`
	Purpose   string `json:"purpose"`
	Status    string `json:"status"`
	Details   string `json:"status_details"`

	content  string
	fileType string
}

var filePurposes = []string{"file-extract", "image", "video", "batch"}

func fileNotFound(id string) *apiError {
	return &apiError{status: http.StatusNotFound, typ: "resource_not_found_error", msg: fmt.Sprintf("file %s not found", id)}
}

func (e *Emulator) uploadFile(w http.ResponseWriter, r *http.Request, body []byte) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		writeError(w, invalid("Invalid request: upload files as multipart/form-data with the fields file and purpose"))
		return
	}
	var (
		purpose, filename string
		data              []byte
		haveFile          bool
	)
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			writeError(w, invalid("Invalid request: malformed multipart body"))
			return
		}
		b, err := io.ReadAll(part)
		if err != nil {
			writeError(w, invalid("Invalid request: malformed multipart body"))
			return
		}
		switch part.FormName() {
		case "purpose":
			purpose = string(b)
		case "file":
			filename, data, haveFile = path.Base(part.FileName()), b, true
		}
	}
	switch {
	case !slices.Contains(filePurposes, purpose):
		writeError(w, invalid("Invalid purpose: %q, accepted: %s", purpose, strings.Join(filePurposes, ", ")))
		return
	case !haveFile:
		writeError(w, invalid("Invalid request: the multipart field file is missing"))
		return
	case len(data) == 0:
		writeError(w, invalid("Invalid request: file size is zero, please upload a non-empty file"))
		return
	case int64(len(data)) > e.maxFileBytes:
		writeError(w, invalid("Invalid request: file size exceeds the limit of %d MB", e.maxFileBytes>>20))
		return
	}

	content, fileType := extractText(filename, data)
	e.mu.Lock()
	if len(e.files) >= e.maxFiles {
		e.mu.Unlock()
		writeError(w, invalid("Invalid request: too many files: at most %d files per user, delete some first", e.maxFiles))
		return
	}
	e.fileSeq++
	f := &storedFile{ID: fmt.Sprintf("file-emu-%06d", e.fileSeq), Object: "file", Bytes: len(data),
		CreatedAt: createdBase + int64(e.fileSeq), Filename: filename, Purpose: purpose, Status: "ok",
		content: content, fileType: fileType}
	e.files = append(e.files, f)
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, f)
}

func (e *Emulator) listFiles(w http.ResponseWriter) {
	e.mu.Lock()
	data := make([]storedFile, len(e.files))
	for i, f := range e.files {
		data[i] = *f
	}
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, struct {
		Object string       `json:"object"`
		Data   []storedFile `json:"data"`
	}{"list", data})
}

func (e *Emulator) findFile(id string) (storedFile, int, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, f := range e.files {
		if f.ID == id {
			return *f, i, true
		}
	}
	return storedFile{}, -1, false
}

func (e *Emulator) getFile(w http.ResponseWriter, id string) {
	f, _, ok := e.findFile(id)
	if !ok {
		writeError(w, fileNotFound(id))
		return
	}
	writeJSON(w, http.StatusOK, f)
}

func (e *Emulator) deleteFile(w http.ResponseWriter, id string) {
	e.mu.Lock()
	i := slices.IndexFunc(e.files, func(f *storedFile) bool { return f.ID == id })
	if i >= 0 {
		e.files = slices.Delete(e.files, i, i+1)
	}
	e.mu.Unlock()
	if i < 0 {
		writeError(w, fileNotFound(id))
		return
	}
	writeJSON(w, http.StatusOK, struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Deleted bool   `json:"deleted"`
	}{id, "file", true})
}

func (e *Emulator) fileContent(w http.ResponseWriter, id string) {
	f, _, ok := e.findFile(id)
	if !ok {
		writeError(w, fileNotFound(id))
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Content  string `json:"content"`
		FileType string `json:"file_type"`
		Filename string `json:"filename"`
		Title    string `json:"title"`
		Type     string `json:"type"`
	}{f.content, f.fileType, f.Filename, "", "file"})
}

const docxType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

// fileTypes is a fixed table rather than mime.TypeByExtension, whose answers
// depend on the machine's mime.types.
var fileTypes = map[string]string{
	".txt": "text/plain", ".md": "text/markdown", ".csv": "text/csv", ".json": "application/json",
	".jsonl": "application/jsonl", ".html": "text/html", ".go": "text/x-go", ".py": "text/x-python",
	".pdf": "application/pdf", ".docx": docxType,
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
	".mp4": "video/mp4",
}

// extractText is the emulator's stand-in for Moonshot's extraction: text
// files as they are, the <w:t> runs of a .docx, the shown strings of an
// uncompressed or Flate-compressed PDF, and a deterministic marker for
// anything else.
func extractText(name string, data []byte) (content, fileType string) {
	fileType = fileTypes[strings.ToLower(path.Ext(name))]
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		if text, ok := pdfText(data); ok {
			return text, "application/pdf"
		}
		return fmt.Sprintf("[pdf: %d bytes]", len(data)), "application/pdf"
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		if text, ok := docxText(data); ok {
			return text, docxType
		}
		return fmt.Sprintf("[zip: %d bytes]", len(data)), "application/zip"
	case utf8.Valid(data) && bytes.IndexByte(data, 0) < 0:
		if fileType == "" {
			fileType = "text/plain"
		}
		return string(data), fileType
	}
	if fileType == "" {
		fileType = "application/octet-stream"
	}
	return fmt.Sprintf("[binary file: %d bytes]", len(data)), fileType
}

// docxText returns the paragraphs of word/document.xml, one per line.
func docxText(data []byte) (string, bool) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", false
	}
	f, err := zr.Open("word/document.xml")
	if err != nil {
		return "", false
	}
	defer f.Close()
	var (
		paras  []string
		cur    strings.Builder
		inText bool
	)
	dec := xml.NewDecoder(f)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "t":
				inText = true
			case "tab":
				cur.WriteByte('\t')
			case "br":
				cur.WriteByte('\n')
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inText = false
			case "p":
				paras = append(paras, cur.String())
				cur.Reset()
			}
		case xml.CharData:
			if inText {
				cur.Write(t)
			}
		}
	}
	if cur.Len() > 0 {
		paras = append(paras, cur.String())
	}
	return strings.Join(paras, "\n"), true
}

// pdfText returns the strings shown by Tj, TJ, ' and " in the PDF's content
// streams, one line per operator. Streams with a filter other than
// FlateDecode are skipped; ok is false when no text was found.
func pdfText(data []byte) (string, bool) {
	var lines []string
	rest := data
	for {
		i := bytes.Index(rest, []byte("stream"))
		if i < 0 {
			break
		}
		// "endstream" also contains "stream".
		if i >= 3 && string(rest[i-3:i]) == "end" {
			rest = rest[i+len("stream"):]
			continue
		}
		dict := rest[:i]
		if j := bytes.LastIndex(dict, []byte("obj")); j >= 0 {
			dict = dict[j:]
		}
		start := i + len("stream")
		if bytes.HasPrefix(rest[start:], []byte("\r\n")) {
			start += 2
		} else if bytes.HasPrefix(rest[start:], []byte("\n")) {
			start++
		}
		end := bytes.Index(rest[start:], []byte("endstream"))
		if end < 0 {
			break
		}
		content := rest[start : start+end]
		rest = rest[start+end+len("endstream"):]
		switch {
		case bytes.Contains(dict, []byte("/FlateDecode")):
			zr, err := zlib.NewReader(bytes.NewReader(content))
			if err != nil {
				continue
			}
			decoded, err := io.ReadAll(zr)
			if err != nil {
				continue
			}
			content = decoded
		case bytes.Contains(dict, []byte("/Filter")):
			continue
		}
		lines = append(lines, pdfShownStrings(content)...)
	}
	return strings.Join(lines, "\n"), len(lines) > 0
}

// pdfShownStrings scans one content stream for text-showing operators.
func pdfShownStrings(s []byte) []string {
	var (
		lines   []string
		operand []string // strings since the last operator; a TJ array's pieces concatenated
	)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '(':
			str, n := pdfLiteral(s[i:])
			operand = append(operand, str)
			i += n
		case c == '<' && i+1 < len(s) && s[i+1] != '<':
			end := bytes.IndexByte(s[i:], '>')
			if end < 0 {
				return lines
			}
			hexDigits := strings.Map(func(r rune) rune {
				if strings.ContainsRune(" \t\r\n", r) {
					return -1
				}
				return r
			}, string(s[i+1:i+end]))
			if len(hexDigits)%2 == 1 {
				hexDigits += "0"
			}
			b, _ := hex.DecodeString(hexDigits)
			operand = append(operand, string(b))
			i += end + 1
		case c == '%':
			for i < len(s) && s[i] != '\n' && s[i] != '\r' {
				i++
			}
		case c == '[' || c == ']' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '<' || c == '>':
			i++
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n()<>[]/%", rune(s[j])) {
				j++
			}
			if j == i {
				// A name: skip the slash and let the loop read the rest.
				j = i + 1
			}
			switch string(s[i:j]) {
			case "Tj", "TJ", "'", "\"":
				if len(operand) > 0 {
					lines = append(lines, strings.Join(operand, ""))
				}
				operand = nil
			default:
				if isPDFOperator(s[i:j]) {
					operand = nil
				}
			}
			i = j
		}
	}
	return lines
}

// isPDFOperator tells operators (letters, * and quotes) from numbers and names.
func isPDFOperator(tok []byte) bool {
	for _, c := range tok {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '*' || c == '\'' || c == '"') {
			return false
		}
	}
	return len(tok) > 0
}

// pdfLiteral decodes the literal string at the start of s (which begins with
// '(') and returns it with the number of bytes it spans.
func pdfLiteral(s []byte) (string, int) {
	var out []byte
	depth := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			switch e := s[i]; e {
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case '\r', '\n':
				// A line continuation.
				if e == '\r' && i+1 < len(s) && s[i+1] == '\n' {
					i++
				}
			default:
				if e >= '0' && e <= '7' {
					v, n := 0, 0
					for n < 3 && i+n < len(s) && s[i+n] >= '0' && s[i+n] <= '7' {
						v = v*8 + int(s[i+n]-'0')
						n++
					}
					out = append(out, byte(v))
					i += n - 1
				} else {
					out = append(out, e)
				}
			}
		case c == '(':
			if depth > 0 {
				out = append(out, c)
			}
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return string(out), i + 1
			}
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	return string(out), len(s)
}
