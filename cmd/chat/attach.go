package chat

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// sniffBytes is how much of a file decides whether it is text.
const sniffBytes = 8 << 10

// maxImageBytes: an image travels base64-encoded (4/3 larger) inside the request body, which
// Moonshot limits to about 100 MB, with room left for the rest of the request.
const maxImageBytes = 70 << 20

// attachment is a file given with -f, read but not yet sent.
type attachment struct {
	name string // as the user gave it; "stdin" for -
	data []byte
	text bool // inlined into the user message; otherwise extracted by Moonshot
}

// loadAttachments reads the -f files and the -i images. Nothing is sent.
// Reading stops when ctx ends: stdin and a FIFO may wait for an idle writer.
func (opts *Options) loadAttachments(ctx context.Context) (files []attachment, images []moonshot.ContentPart, err error) {
	for _, path := range opts.Features.Files {
		a := attachment{name: path}
		a.data, err = cli.ReadCancellable(ctx, func() ([]byte, error) {
			if path == "-" {
				return readLimited(opts.IO.In, "standard input", moonshot.MaxFileBytes)
			}
			return readFile(path, moonshot.MaxFileBytes)
		})
		if path == "-" {
			a.name = "stdin"
		}
		if err != nil {
			return nil, nil, err
		}
		a.text = isText(a.data)
		files = append(files, a)
	}
	for _, path := range opts.Features.Images {
		data, err := cli.ReadCancellable(ctx, func() ([]byte, error) { return readFile(path, maxImageBytes) })
		if err != nil {
			return nil, nil, err
		}
		mime := http.DetectContentType(data)
		switch mime {
		case "image/png", "image/jpeg", "image/webp", "image/gif":
		default:
			return nil, nil, cli.Usagef("-i %s: %s is not an image Moonshot accepts (png, jpeg, webp, gif)", path, mime)
		}
		images = append(images, moonshot.ContentPart{Type: "image_url",
			ImageURL: &moonshot.MediaURL{URL: "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(data)}})
	}
	return files, images, nil
}

func readFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		// Not wrapped: an *fs.PathError would read as a network failure to cli.Describe.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, cli.Usagef("%s: %v", path, pe.Err)
		}
		return nil, cli.Usagef("%v", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil {
		switch {
		case st.IsDir():
			return nil, cli.Usagef("%s is a directory; attach its files one by one", path)
		case st.Mode().IsRegular() && st.Size() > limit:
			return nil, tooBig(path, limit)
		}
	}
	return readLimited(f, path, limit)
}

func readLimited(r io.Reader, name string, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, tooBig(name, limit)
	}
	return data, nil
}

func tooBig(name string, limit int64) error {
	return cli.Usagef("%s is larger than %d MB, the most Moonshot accepts here", name, limit>>20)
}

// documentSignatures start formats that are text-free or that Moonshot extracts better than a
// raw inline copy would read, even when their first bytes happen to be ASCII (a small PDF can
// be): PDF, zip (docx, xlsx, pptx, odt…), OLE (doc, xls, ppt) and RTF.
var documentSignatures = [][]byte{[]byte("%PDF-"), []byte("PK\x03\x04"), []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"), []byte(`{\rtf`)}

// isText sniffs the content, not the name: valid UTF-8 without NUL bytes in the first 8 KB,
// and not a known document format.
func isText(data []byte) bool {
	for _, sig := range documentSignatures {
		if bytes.HasPrefix(data, sig) {
			return false
		}
	}
	head := data[:min(len(data), sniffBytes)]
	if bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	if len(head) < len(data) {
		// A character cut by the 8 KB boundary does not count against the file.
		for i := len(head) - 1; i >= 0 && i >= len(head)-utf8.UTFMax; i-- {
			if utf8.RuneStart(head[i]) {
				if !utf8.FullRune(head[i:]) {
					head = head[:i]
				}
				break
			}
		}
	}
	return utf8.Valid(head)
}

// fenced shows a text file in the user message: its name, then its content in a code fence
// longer than any run of backticks inside, so that nothing in the file can close it.
func fenced(name string, data []byte) string {
	text := strings.TrimPrefix(string(data), "\uFEFF")
	longest, run := 0, 0
	for i := 0; i < len(text); i++ {
		if text[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	var b strings.Builder
	b.WriteString("File: " + name + "\n" + fence + "\n" + text)
	if text != "" && !strings.HasSuffix(text, "\n") {
		b.WriteByte('\n')
	}
	b.WriteString(fence)
	return b.String()
}

// attach puts the attachments into req: text files after the prompt in the user message,
// images as content parts of it, and the extracted text of each document in a system message
// before it, verbatim, as Moonshot's file guide does.
func (opts *Options) attach(ctx context.Context, client *moonshot.Client, req *moonshot.ChatRequest, files []attachment, images []moonshot.ContentPart) error {
	user := &req.Messages[len(req.Messages)-1]
	text := user.Content.String()
	for _, a := range files {
		if a.text {
			if text != "" {
				text += "\n\n"
			}
			text += fenced(a.name, a.data)
		}
	}
	if strings.TrimSpace(text) == "" {
		return cli.Usagef("no prompt: give it as arguments (moonchat chat \"question\") or pipe text in")
	}
	if len(images) > 0 {
		user.Content = moonshot.Parts(append(images, moonshot.ContentPart{Type: "text", Text: text})...)
	} else {
		user.Content = moonshot.Text(text)
	}

	var (
		docs        []moonshot.Message
		cache       *moonshot.FileCache
		cacheOpened bool
		extractErr  error
	)
	for _, a := range files {
		if a.text {
			continue
		}
		if !cacheOpened {
			cache, cacheOpened = opts.fileCache(), true
		}
		content, err := opts.extract(ctx, client, cache, a)
		if err != nil {
			extractErr = err
			break
		}
		docs = append(docs, moonshot.TextMessage("system", content))
	}
	// Saved even after a failure: the uploads that did happen must stay findable.
	if cache != nil {
		if err := cache.Save(); err != nil {
			opts.notice("%v", err)
		}
	}
	if extractErr != nil {
		return extractErr
	}
	if len(docs) > 0 {
		at := len(req.Messages) - 1
		req.Messages = append(req.Messages[:at], append(docs, req.Messages[at:]...)...)
	}
	return nil
}

// fileCache opens the cache of uploads; offline there is none (every run has a new emulator),
// and a cache that cannot be read is started afresh rather than stopping the question.
func (opts *Options) fileCache() *moonshot.FileCache {
	if opts.Offline {
		return nil
	}
	path, err := moonshot.DefaultFileCachePath()
	if err != nil {
		opts.notice("%v; documents will be uploaded again next time", err)
		return nil
	}
	cache, err := moonshot.OpenFileCache(path)
	if err != nil {
		opts.notice("%v; starting a new one", err)
		return moonshot.NewFileCache(path)
	}
	return cache
}

// extract returns the system message text of a document: Moonshot's extraction, uploaded or
// reused from the cache. A dry run uploads nothing: a document that is not on the server yet
// is shown as a placeholder.
func (opts *Options) extract(ctx context.Context, client *moonshot.Client, cache *moonshot.FileCache, a attachment) (string, error) {
	if opts.DryRun {
		return opts.extractDry(ctx, client, cache, a)
	}
	opts.IO.SetStatus("extracting " + a.name + "…")
	ex, err := client.ExtractFile(ctx, a.name, a.data, cache)
	opts.IO.ClearStatus()
	if err != nil {
		return "", fmt.Errorf("%s: %w", a.name, err)
	}
	if ex.Uploaded {
		opts.notice("%s: uploaded to your Moonshot files for text extraction (%s)", a.name, ex.FileID)
	}
	if !opts.Features.KeepFiles {
		if err := client.DeleteFile(ctx, ex.FileID); err != nil {
			opts.notice("%s: could not delete %s (%v); remove it with `moonchat files rm %s`", a.name, ex.FileID, err, ex.FileID)
		} else if cache != nil {
			cache.Forget(client.BaseURL(), ex.FileID)
		}
	}
	return ex.Content.Raw, nil
}

func (opts *Options) extractDry(ctx context.Context, client *moonshot.Client, cache *moonshot.FileCache, a attachment) (string, error) {
	if cache != nil {
		if cached, ok := cache.Lookup(client.BaseURL(), sha256Hex(a.data), moonshot.PurposeFileExtract); ok {
			content, err := client.FileContent(ctx, cached.FileID)
			if err == nil {
				return content.Raw, nil
			}
			var apiErr *moonshot.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
				return "", fmt.Errorf("%s: %w", a.name, err)
			}
		}
	}
	opts.notice("--dry-run: %s is not uploaded; its extracted text is shown as a placeholder", a.name)
	return fmt.Sprintf("[the text Moonshot extracts from %s goes here once it is uploaded]", a.name), nil
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
