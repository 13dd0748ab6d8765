package emulator

import (
	"fmt"
	"math"
)

func parseStop(raw map[string]any, req *ChatRequest) *apiError {
	v, ok := raw["stop"]
	if !ok || v == nil {
		return nil
	}
	var stops []string
	switch s := v.(type) {
	case string:
		stops = []string{s}
	case []any:
		for _, x := range s {
			str, ok := x.(string)
			if !ok {
				return invalid("Invalid request: stop must be a string or an array of strings")
			}
			stops = append(stops, str)
		}
	default:
		return invalid("Invalid request: stop must be a string or an array of strings")
	}
	if len(stops) > maxStopStrings {
		return invalid("Invalid request: stop accepts at most %d strings, got %d", maxStopStrings, len(stops))
	}
	for _, s := range stops {
		if len(s) > maxStopBytes {
			return invalid("Invalid request: each stop string must be at most %d bytes, %q has %d", maxStopBytes, s, len(s))
		}
	}
	req.Stop = stops
	return nil
}

func optString(obj map[string]any, key string, i int) (string, *apiError) {
	v, ok := obj[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", invalid("Invalid request: %s of message at index %d must be a string", key, i)
	}
	return s, nil
}

func numField(raw map[string]any, key string) (*float64, *apiError) {
	v, ok := raw[key]
	if !ok || v == nil {
		return nil, nil
	}
	f, ok := v.(float64)
	if !ok {
		return nil, invalid("Invalid request: %s must be a number", key)
	}
	return &f, nil
}

func intField(raw map[string]any, key string) (int, bool, *apiError) {
	f, err := numField(raw, key)
	if err != nil || f == nil {
		return 0, false, err
	}
	if *f != math.Trunc(*f) || math.Abs(*f) > 1<<31 {
		return 0, false, invalid("Invalid request: %s must be an integer", key)
	}
	return int(*f), true, nil
}

func formatNum(f float64) string { return fmt.Sprintf("%g", f) }
