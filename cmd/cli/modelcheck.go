package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// CheckModel refuses a model id the API would refuse, before it is used for the next
// questions (/model in the session) or kept (`config set model`): an id of the built-in table
// passes at once, with a notice when Moonshot retired it (the request is still sent and the
// server decides, as for -m); any other only when GET /models lists it for the key. "auto" and
// an id with LiteLLM's "moonshot/" prefix are taken as they are.
func CheckModel(ctx context.Context, client *moonshot.Client, id string) (notice string, err error) {
	if id == "auto" {
		return "", nil
	}
	bare := moonshot.StripProvider(id)
	for _, m := range moonshot.KnownModels() {
		if m.ID == bare {
			if m.Retired != nil {
				return m.Retired.Sentence(m.ID), nil
			}
			return "", nil
		}
	}
	remote, err := client.Models(ctx)
	if err != nil {
		return "", fmt.Errorf("model %s is not in moonchat's table and GET /models, which would confirm it, failed: %w", ShownLine(bare), err)
	}
	var ids []string
	for _, m := range remote {
		if m.ID == bare {
			return "", nil
		}
		ids = append(ids, ShownLine(m.ID))
	}
	slices.Sort(ids)
	if len(ids) > 8 {
		ids = append(ids[:8], "…")
	}
	return "", Usagef("unknown model %q: neither moonchat's table nor GET /models has it (the key can use %s); `moonchat models` lists them", ShownLine(bare), strings.Join(ids, ", "))
}
