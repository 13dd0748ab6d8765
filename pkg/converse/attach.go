package converse

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// sniffBytes is how much of a file decides whether it is text.
const sniffBytes = 8 << 10

// documentSignatures start formats that are text-free or that Moonshot extracts better than a
// raw inline copy would read, even when their first bytes happen to be ASCII (a small PDF can
// be): PDF, zip (docx, xlsx, pptx, odt…), OLE (doc, xls, ppt) and RTF.
var documentSignatures = [][]byte{[]byte("%PDF-"), []byte("PK\x03\x04"), []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"), []byte(`{\rtf`)}

// IsText sniffs the content, not the name: valid UTF-8 without NUL bytes in the first 8 KB,
// and not a known document format. Text files are inlined into the question; the others are
// extracted by Moonshot.
func IsText(data []byte) bool {
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
func (e *Engine) attach(ctx context.Context, req *moonshot.ChatRequest, files []File, images []moonshot.ContentPart, obs Observer) error {
	user := &req.Messages[len(req.Messages)-1]
	text := user.Content.String()
	for _, f := range files {
		if IsText(f.Data) {
			if text != "" {
				text += "\n\n"
			}
			text += fenced(f.Name, f.Data)
		}
	}
	if strings.TrimSpace(text) == "" {
		return ErrNoPrompt
	}
	if len(images) > 0 {
		user.Content = moonshot.Parts(append(images, moonshot.ContentPart{Type: "text", Text: text})...)
	} else if len(files) > 0 {
		user.Content = moonshot.Text(text)
	}

	var (
		docs        []moonshot.Message
		cache       *moonshot.FileCache
		cacheOpened bool
		extractErr  error
	)
	for _, f := range files {
		if IsText(f.Data) {
			continue
		}
		if !cacheOpened {
			cacheOpened = true
			if e.FileCache != nil {
				cache = e.FileCache()
			}
		}
		content, err := e.extract(ctx, cache, f, obs)
		if err != nil {
			extractErr = err
			break
		}
		docs = append(docs, moonshot.TextMessage("system", content))
	}
	// Saved even after a failure: the uploads that did happen must stay findable.
	if cache != nil {
		if err := cache.Save(); err != nil {
			obs.Notice(err.Error())
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

// extract returns the system message text of a document: Moonshot's extraction, uploaded or
// reused from the cache. A dry run uploads nothing: a document that is not on the server yet
// is shown as a placeholder.
func (e *Engine) extract(ctx context.Context, cache *moonshot.FileCache, f File, obs Observer) (string, error) {
	client := e.Client
	if e.DryRun {
		return e.extractDry(ctx, cache, f, obs)
	}
	obs.Status("extracting " + f.Name + "…")
	ex, err := client.ExtractFile(ctx, f.Name, f.Data, cache)
	obs.Status("")
	if err != nil {
		return "", fmt.Errorf("%s: %w", f.Name, err)
	}
	if ex.Uploaded {
		obs.Notice(fmt.Sprintf("%s: uploaded to your Moonshot files for text extraction (%s)", f.Name, ex.FileID))
	}
	if e.DeleteFiles {
		if err := client.DeleteFile(ctx, ex.FileID); err != nil {
			obs.Notice(fmt.Sprintf("%s: could not delete %s (%v); remove it with `moonchat files rm %s`", f.Name, ex.FileID, err, ex.FileID))
		} else if cache != nil {
			cache.Forget(client.BaseURL(), ex.FileID)
		}
	}
	return ex.Content.Raw, nil
}

func (e *Engine) extractDry(ctx context.Context, cache *moonshot.FileCache, f File, obs Observer) (string, error) {
	if cache != nil {
		if cached, ok := cache.Lookup(e.Client.BaseURL(), sha256Hex(f.Data), moonshot.PurposeFileExtract); ok {
			content, err := e.Client.FileContent(ctx, cached.FileID)
			if err == nil {
				return content.Raw, nil
			}
			var apiErr *moonshot.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
				return "", fmt.Errorf("%s: %w", f.Name, err)
			}
		}
	}
	obs.Notice(fmt.Sprintf("--dry-run: %s is not uploaded; its extracted text is shown as a placeholder", f.Name))
	return fmt.Sprintf("[the text Moonshot extracts from %s goes here once it is uploaded]", f.Name), nil
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
