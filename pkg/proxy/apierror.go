package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/moonchat/moonchat/pkg/moonshot"
)

// apiError is OpenAI's error object; Param and Code are null when empty.
type apiError struct {
	Message string
	Type    string
	Param   string
	Code    string
}

func (e apiError) MarshalJSON() ([]byte, error) {
	null := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return json.Marshal(struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	}{e.Message, e.Type, null(e.Param), null(e.Code)})
}

// errorJSON is the body of an error answer or stream event: {"error":{...}}.
func errorJSON(e apiError) []byte {
	b, _ := json.Marshal(struct {
		Error apiError `json:"error"`
	}{e})
	return b
}

func writeError(w http.ResponseWriter, status int, e apiError) {
	writeRaw(w, status, errorJSON(e))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, apiError{Message: "could not encode the answer", Type: "server_error"})
		return
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// upstreamError turns a failure into the status and error object the client gets. Moonshot's
// errors keep their status and type; failures to reach it become 502 or 504.
func upstreamError(err error) (int, apiError) {
	var inv *moonshot.InvalidRequestError
	if errors.As(err, &inv) {
		return http.StatusBadRequest, apiError{Message: inv.Msg, Type: "invalid_request_error"}
	}
	var ae *moonshot.APIError
	if errors.As(err, &ae) {
		status := ae.StatusCode
		switch {
		case status == 0 && moonshot.IsRejected(err):
			status = http.StatusBadRequest // an in-stream refusal, such as content_filter
		case status < 400:
			// An error inside a stream, a stream cut short, or an answer that could not be
			// decoded: the gateway's fault as far as the client can tell.
			status = http.StatusBadGateway
		}
		msg := ae.Message
		if ae.RequestID != "" {
			msg += " (Moonshot request id " + ae.RequestID + ")"
		}
		return status, apiError{Message: msg, Type: ae.Type, Code: ae.Code}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return http.StatusGatewayTimeout, apiError{Message: "Moonshot did not answer in time: " + err.Error(), Type: "timeout_error", Code: "upstream_timeout"}
	}
	return http.StatusBadGateway, apiError{Message: "could not reach Moonshot: " + err.Error(), Type: "server_error", Code: "upstream_unreachable"}
}
