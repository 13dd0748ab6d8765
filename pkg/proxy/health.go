package proxy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// healthTimeout bounds each deployment's check in GET /health.
const healthTimeout = 10 * time.Second

type healthEndpoint struct {
	ModelName string `json:"model_name"`
	Model     string `json:"model"`
	APIBase   string `json:"api_base"`
	ID        string `json:"id"`
	Error     string `json:"error,omitempty"`
}

// health answers GET /health as LiteLLM does: every deployment is checked with the upstream's
// GET /models (no tokens spent), and must find its model in the answer.
func (h *Handler) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	results := make([]healthEndpoint, len(h.all))
	var wg sync.WaitGroup
	for i, d := range h.all {
		wg.Go(func() {
			e := healthEndpoint{ModelName: d.ModelName, Model: "moonshot/" + d.Model, APIBase: d.base, ID: d.ID}
			if err := h.check(ctx, d); err != nil {
				e.Error = err.Error()
			}
			results[i] = e
		})
	}
	wg.Wait()
	healthy, unhealthy := []healthEndpoint{}, []healthEndpoint{}
	for _, e := range results {
		if e.Error == "" {
			healthy = append(healthy, e)
		} else {
			unhealthy = append(unhealthy, e)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"healthy_endpoints": healthy, "unhealthy_endpoints": unhealthy,
		"healthy_count": len(healthy), "unhealthy_count": len(unhealthy),
	})
}

// check asks the deployment's upstream for its models; what it learns refines the deployment.
func (h *Handler) check(ctx context.Context, d *deployment) error {
	list, err := d.client.Models(ctx)
	if err != nil {
		return err
	}
	if isWildcard(d.Model) {
		return nil
	}
	i := slices.IndexFunc(list, func(m moonshot.RemoteModel) bool { return m.ID == d.Model })
	if i < 0 {
		return fmt.Errorf("the upstream's GET /models does not list %s for this key", d.Model)
	}
	d.remote.Store(&list[i])
	return nil
}

// RefreshModels asks each distinct upstream (api_base and key) for its models and refines the
// deployments' model facts with the answer (context length, capabilities). A failure leaves
// the facts as they were; the error names every upstream that failed.
func (h *Handler) RefreshModels(ctx context.Context) error {
	type upstream struct{ base, key string }
	seen := map[upstream][]moonshot.RemoteModel{}
	var errs []error
	var catalog []moonshot.RemoteModel
	for _, d := range h.all {
		u := upstream{d.APIBase, d.APIKey}
		list, ok := seen[u]
		if !ok {
			var err error
			list, err = d.client.Models(ctx)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", d.base, err))
			}
			seen[u] = list
			catalog = append(catalog, list...)
		}
		for i := range list {
			if list[i].ID == d.Model {
				d.remote.Store(&list[i])
			}
		}
	}
	if len(catalog) > 0 {
		h.catalog.Store(&catalog)
	}
	return errors.Join(errs...)
}

// modelInfo answers GET /model/info: each deployment with its model's facts from the model
// table (refined by GET /models when known) and the prices the cost estimate uses.
func (h *Handler) modelInfo(w http.ResponseWriter) {
	data := make([]map[string]any, 0, len(h.all))
	for _, d := range h.all {
		params := map[string]any{"model": "moonshot/" + d.Model, "api_base": d.base}
		if d.RPM > 0 {
			params["rpm"] = d.RPM
		}
		if d.TPM > 0 {
			params["tpm"] = d.TPM
		}
		if d.Weight > 0 {
			params["weight"] = d.Weight
		}
		if len(d.Tags) > 0 {
			params["tags"] = d.Tags
		}
		info := map[string]any{"id": d.ID, "key": d.Model, "litellm_provider": "moonshot", "mode": "chat"}
		if !isWildcard(d.Model) {
			spec, known := moonshot.LookupModel(d.Model)
			spec = spec.Refine(d.remote.Load())
			info["known"] = known
			info["max_input_tokens"] = spec.Context
			if spec.MaxOutput > 0 {
				info["max_output_tokens"] = spec.MaxOutput
				info["max_tokens"] = spec.MaxOutput // LiteLLM's max_tokens is the output limit
			}
			info["supports_vision"] = spec.Vision
			info["supports_video_input"] = spec.Video
			info["supports_function_calling"] = spec.Tools
			info["supports_reasoning"] = spec.Thinking != moonshot.ThinkingNone
			if spec.Retired != nil {
				info["retired"] = spec.Retired
			}
			if d.price.Known() {
				info["input_cost_per_token"] = d.price.Input / 1e6
				info["output_cost_per_token"] = d.price.Output / 1e6
				info["cache_read_input_token_cost"] = d.price.InputCache / 1e6
				info["currency"] = d.price.Currency
				if d.price.Note != "" {
					info["price_note"] = d.price.Note
				}
				info["price_third_party"] = d.price.ThirdParty
			}
		}
		data = append(data, map[string]any{"model_name": d.ModelName, "litellm_params": params, "model_info": info})
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}
