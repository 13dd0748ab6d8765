package chat

// jsonSchemaDoc documents --format json and jsonl. It is the JSON OUTPUT section of
// moonchat-chat(1) (through the man:JSON OUTPUT annotation) and is mirrored in README.md.
const jsonSchemaDoc = "With **--format json**, one object is printed when the answer is complete:\n\n" +
	"```\n" + `{
  "id": "chatcmpl-…",            // Moonshot's completion id ("" if none arrived)
  "model": "kimi-k2.6",          // the model that answered
  "conversation_id": "…",        // the saved conversation ("" with --no-save)
  "content": "…",                // the answer (choice 0)
  "reasoning_content": "…",      // the model's reasoning, "" for models that do not think
  "finish_reason": "stop",       // stop, length, tool_calls, content_filter, or "" if cut
  "tool_calls": [ {"id": "…", "type": "function",
                   "function": {"name": "…", "arguments": "{…}"}} ],
  "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0,
            "cached_tokens": 0, "reasoning_tokens": 0},      // null if not reported
  "adjustments": [ {"param": "temperature", "from": 1.5, "to": 1,
                    "reason": "Moonshot accepts 0–1"} ],    // to is null when dropped
  "cost": {"amount": 0.000123, "currency": "USD", "estimated": true},  // null if unknown
  "elapsed_ms": 1234,
  "tool_results": [ {"id": "…", "name": "date", "arguments": "{…}", "content": "…",
                     "failed": false, "bytes": 36, "elapsed_ms": 80} ],  // only with --tool
  "choices": [ {"index": 0, "content": "…", "reasoning_content": "…",
                "finish_reason": "stop", "tool_calls": []} ],  // only with -n 2 or more
  "error": {"type": "rate_limit_reached_error", "kind": "temporary",
            "message": "…", "status": 429, "request_id": "…",
            "exit_code": 75,                                  // only on failure
            "retry_after": 20}        // seconds the server asked to wait, when it said
}` + "\n```\n\n" +
	"On failure the object is still printed, with what arrived before the error, and moonchat " +
	"exits with the code in error.exit_code. error.kind is one of usage, auth, quota, rejected, " +
	"temporary, interrupted, failure. error.retry_after is present only when a temporary " +
	"failure's answer said how long to wait (Retry-After, X-RateLimit-Reset, or \"try again after " +
	"N seconds\"), whether moonchat gave up at once because the wait is longer than it retries " +
	"after (30 s) or retried until --max-retries ran out: the wait in whole seconds, rounded up, " +
	"so a script can sleep that long before trying again.\n\n" +
	"With **--format jsonl**, one event per line is printed as the stream arrives; every event " +
	"has a \"type\":\n\n" +
	"```\n" + `{"type":"start","model":"kimi-k2.6","request_id":"…"}
{"type":"reasoning","choice":0,"text":"…"}
{"type":"delta","choice":0,"text":"…"}
{"type":"tool_call","choice":0,"id":"…","name":"…","arguments":"{…}"}
{"type":"tool_result","id":"…","name":"…","content":"…","failed":false,"bytes":36,"elapsed_ms":80}
{"type":"usage","usage":{…},"cost":{…}}
{"type":"done","id":"…","model":"…","conversation_id":"…","finish_reason":"stop",
 "adjustments":[…],"elapsed_ms":1234}
{"type":"error","error":{…},"exit_code":75}      // instead of done, on failure` + "\n```\n"
