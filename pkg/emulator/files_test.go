package emulator

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

type fileObject struct {
	ID        string `json:"id"`
	Object    string `json:"object"`
	Bytes     int    `json:"bytes"`
	CreatedAt int64  `json:"created_at"`
	Filename  string `json:"filename"`
	Purpose   string `json:"purpose"`
	Status    string `json:"status"`
}

type fileContentResp struct {
	Content  string  `json:"content"`
	FileType string  `json:"file_type"`
	Filename string  `json:"filename"`
	Title    *string `json:"title"`
	Type     string  `json:"type"`
}

// upload posts a multipart form; a negative purpose omits the field, a nil
// data omits the file.
func upload(t *testing.T, s *Server, name string, data []byte, purpose string) (*http.Response, []byte) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if purpose != "-" {
		if err := mw.WriteField("purpose", purpose); err != nil {
			t.Fatal(err)
		}
	}
	if data != nil {
		fw, err := mw.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", s.URL+"/files", &body)
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func makeDocx(t *testing.T, paragraphs ...string) []byte {
	t.Helper()
	var doc strings.Builder
	doc.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`)
	for _, p := range paragraphs {
		// Split each paragraph into two runs, as Word does.
		half := len(p) / 2
		fmt.Fprintf(&doc, `<w:p><w:r><w:t>%s</w:t></w:r><w:r><w:t xml:space="preserve">%s</w:t></w:r></w:p>`, p[:half], p[half:])
	}
	doc.WriteString(`</w:body></w:document>`)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range map[string]string{
		"[Content_Types].xml": `<Types/>`,
		"word/document.xml":   doc.String(),
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(content))
	}
	zw.Close()
	return buf.Bytes()
}

func makePDF(content string, flate bool) []byte {
	stream, filter := []byte(content), ""
	if flate {
		var b bytes.Buffer
		zw := zlib.NewWriter(&b)
		zw.Write(stream)
		zw.Close()
		stream, filter = b.Bytes(), " /Filter /FlateDecode"
	}
	var pdf bytes.Buffer
	pdf.WriteString("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n")
	fmt.Fprintf(&pdf, "4 0 obj << /Length %d%s >>\nstream\n", len(stream), filter)
	pdf.Write(stream)
	pdf.WriteString("\nendstream\nendobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	return pdf.Bytes()
}

func TestFileExtraction(t *testing.T) {
	pageText := `BT /F1 12 Tf 72 720 Td (Hello, PDF!) Tj 0 -14 Td (Nested \(parens\) and \\ slash) Tj ET
BT [(Kerned) -250 ( text)] TJ <48657820> Tj (\101\102C) ' ET`
	for _, tc := range []struct {
		name, filename string
		data           []byte
		content, typ   string
		marker         string // when set, the content is "[marker: N bytes]"
	}{
		{"text", "notes.txt", []byte("plain text\nline 2 ✓"), "plain text\nline 2 ✓", "text/plain", ""},
		{"markdown", "README.md", []byte("# Title"), "# Title", "text/markdown", ""},
		{"unknown text", "data.xyz", []byte("some text"), "some text", "text/plain", ""},
		{"docx", "report.docx", makeDocx(t, "First paragraph.", "Second: 你好"), "First paragraph.\nSecond: 你好", docxType, ""},
		{"pdf", "paper.pdf", makePDF(pageText, false), "Hello, PDF!\nNested (parens) and \\ slash\nKerned text\nHex \nABC", "application/pdf", ""},
		{"pdf flate", "paper.pdf", makePDF(pageText, true), "Hello, PDF!\nNested (parens) and \\ slash\nKerned text\nHex \nABC", "application/pdf", ""},
		{"pdf without text", "scan.pdf", makePDF("q 1 0 0 1 0 0 cm Q", false), "", "application/pdf", "pdf"},
		{"binary", "photo.png", []byte{0x89, 'P', 'N', 'G', 0, 1, 2, 0xff}, "", "image/png", "binary file"},
		{"zip that is not docx", "a.zip", func() []byte {
			var b bytes.Buffer
			zw := zip.NewWriter(&b)
			w, _ := zw.Create("x.txt")
			w.Write([]byte("x"))
			zw.Close()
			return b.Bytes()
		}(), "", "application/zip", "zip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			content, typ := extractText(tc.filename, tc.data)
			want := tc.content
			if tc.marker != "" {
				want = fmt.Sprintf("[%s: %d bytes]", tc.marker, len(tc.data))
			}
			if content != want || typ != tc.typ {
				t.Errorf("got %q %q, want %q %q", content, typ, want, tc.typ)
			}
		})
	}
}

func TestFilesAPI(t *testing.T) {
	s := start(t, Config{})
	resp, b := upload(t, s, "report.docx", makeDocx(t, "Quarterly numbers.", "All good."), "file-extract")
	if resp.StatusCode != 200 {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	f := decode[fileObject](t, b)
	if f.ID != "file-emu-000001" || f.Object != "file" || f.Filename != "report.docx" || f.Purpose != "file-extract" || f.Status != "ok" || f.Bytes == 0 || f.CreatedAt == 0 {
		t.Errorf("file object %s", b)
	}
	_, b2 := upload(t, s, "pic.png", []byte{0x89, 'P', 'N', 'G', 0}, "image")
	second := decode[fileObject](t, b2)

	_, b = do(t, s, "GET", "/files", "")
	list := decode[struct {
		Object string
		Data   []fileObject
	}](t, b)
	if list.Object != "list" || len(list.Data) != 2 || list.Data[0] != f || list.Data[1] != second {
		t.Errorf("list %s", b)
	}
	if _, b = do(t, s, "GET", "/files/"+f.ID, ""); decode[fileObject](t, b) != f {
		t.Errorf("get %s", b)
	}
	_, b = do(t, s, "GET", "/files/"+f.ID+"/content", "")
	c := decode[fileContentResp](t, b)
	if c.Content != "Quarterly numbers.\nAll good." || c.FileType != docxType || c.Filename != "report.docx" || c.Title == nil || *c.Title != "" || c.Type != "file" {
		t.Errorf("content %s", b)
	}

	resp, b = do(t, s, "DELETE", "/files/"+f.ID, "")
	if resp.StatusCode != 200 || string(b) != `{"id":"file-emu-000001","object":"file","deleted":true}` {
		t.Errorf("delete: %d %s", resp.StatusCode, b)
	}
	for _, path := range []string{"/files/" + f.ID, "/files/" + f.ID + "/content"} {
		resp, b := do(t, s, "GET", path, "")
		if resp.StatusCode != 404 || decode[errorResp](t, b).Error.Type != "resource_not_found_error" {
			t.Errorf("GET %s after delete: %d %s", path, resp.StatusCode, b)
		}
	}
	if resp, _ := do(t, s, "DELETE", "/files/"+f.ID, ""); resp.StatusCode != 404 {
		t.Errorf("second delete: %d", resp.StatusCode)
	}
	if resp, _ := do(t, s, "GET", "/files/x/y", ""); resp.StatusCode != 404 {
		t.Errorf("unknown sub-resource: %d", resp.StatusCode)
	}
}

func TestFileUploadRejections(t *testing.T) {
	s := start(t, Config{})
	s.Emulator().maxFileBytes = 10
	s.Emulator().maxFiles = 2
	for _, tc := range []struct {
		name     string
		data     []byte
		purpose  string
		contains string
	}{
		{"bad purpose", []byte("x"), "assistants", "Invalid purpose"},
		{"no purpose", []byte("x"), "-", "Invalid purpose"},
		{"no file", nil, "file-extract", "field file is missing"},
		{"empty file", []byte{}, "file-extract", "file size is zero"},
		{"too large", bytes.Repeat([]byte("x"), 11), "file-extract", "exceeds the limit"},
	} {
		resp, b := upload(t, s, "a.txt", tc.data, tc.purpose)
		if e := decode[errorResp](t, b); resp.StatusCode != 400 || e.Error.Type != "invalid_request_error" || !strings.Contains(e.Error.Message, tc.contains) {
			t.Errorf("%s: %d %s", tc.name, resp.StatusCode, b)
		}
	}
	// A body beyond the limit plus multipart slack is cut off while reading.
	if resp, b := upload(t, s, "a.txt", bytes.Repeat([]byte("x"), 2<<20), "file-extract"); resp.StatusCode != 400 || !strings.Contains(string(b), "exceeds the limit") {
		t.Errorf("huge body: %d %s", resp.StatusCode, b)
	}
	for _, purpose := range []string{"file-extract", "batch"} {
		if resp, b := upload(t, s, "a.txt", []byte("0123456789"), purpose); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", purpose, resp.StatusCode, b)
		}
	}
	resp, b := upload(t, s, "a.txt", []byte("x"), "video")
	if e := decode[errorResp](t, b); resp.StatusCode != 400 || !strings.Contains(e.Error.Message, "too many files") {
		t.Errorf("file count limit: %d %s", resp.StatusCode, b)
	}
	resp, b = do(t, s, "POST", "/files", `{"not":"multipart"}`)
	if resp.StatusCode != 400 {
		t.Errorf("JSON upload: %d %s", resp.StatusCode, b)
	}
}
