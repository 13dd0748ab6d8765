#!/usr/bin/env bash
# Ask Kimi to review a change from a CI job, with moonchat. Copy it and adapt the prompts.
#
#   examples/ci.sh [--offline] [FILE...]
#
# It reviews FILE (or what standard input brings, or else `git diff $BASE_REF`), writes
# the review to standard output, and then continues the same conversation by its id to get a
# one-line verdict. What it shows:
#   - branching on moonchat's exit code (0 ok, 3 key, 4 balance, 5 rejected, 6 truncated,
#     75 try again),
#   - reading `--format json` with jq,
#   - continuing a conversation with `--conversation "$id"`.
#
# Environment:
#   MOONSHOT_API_KEY    the key (a platform.moonshot.cn key also needs MOONCHAT_REGION=cn)
#   MOONCHAT_MODEL      the model (default: moonchat's, kimi-k2.6)
#   MOONCHAT            the moonchat binary (default: moonchat on PATH)
#   MOONCHAT_OFFLINE=1  same as --offline: moonchat's built-in emulator answers, no key needed
#   BASE_REF            what `git diff` compares with when no input is given (default HEAD~1)
#   ATTEMPTS            tries when moonchat reports a temporary failure (default 2)
#
# The script's own exit status is moonchat's when a request fails, so the job fails for the
# same reason moonchat did.
set -euo pipefail

offline=${MOONCHAT_OFFLINE:-}
if [ "${1:-}" = "--offline" ]; then
  offline=1
  shift
fi

say() { printf 'ci.sh: %s\n' "$*" >&2; }

if ! command -v jq >/dev/null 2>&1; then
  say "jq is required: apt-get install jq (Debian, Ubuntu), dnf install jq, brew install jq, or https://jqlang.org/download/"
  exit 2
fi
if ! command -v "${MOONCHAT:-moonchat}" >/dev/null 2>&1; then
  say "moonchat not found: go install github.com/moonchat/moonchat@latest (or set MOONCHAT=path/to/moonchat)"
  exit 2
fi

# moonchat COMMAND ARGS... runs moonchat, offline when asked.
moonchat() {
  local command=$1
  shift
  "${MOONCHAT:-moonchat}" "$command" ${offline:+--offline} "$@"
}

# The change to review, in a file, so it can be given to several commands.
input=$(mktemp)
trap 'rm -f "$input"' EXIT
if [ $# -gt 0 ]; then
  cat -- "$@" >"$input"
elif [ ! -t 0 ]; then
  cat >"$input" # CI jobs often have an empty standard input: then git diff below
fi
if [ $# -eq 0 ] && [ ! -s "$input" ]; then
  if ! git rev-parse --git-dir >/dev/null 2>&1; then
    say "not in a git repository: give the files to review, or pipe the change in"
    exit 2
  fi
  git diff "${BASE_REF:-HEAD~1}" >"$input"
fi
if [ ! -s "$input" ]; then
  say "nothing to review"
  exit 0
fi

prompt="Review this change. List real problems only, most serious first."

# fail STATUS [DETAIL] explains a failed moonchat run for the CI log and exits with its status,
# so the job fails for the reason moonchat gave.
fail() {
  local detail=${2:+: $2}
  case $1 in
    2) say "moonchat was called wrongly or its config is broken$detail" ;;
    3) say "authentication failed$detail; set MOONSHOT_API_KEY (a platform.moonshot.cn key also needs MOONCHAT_REGION=cn)" ;;
    4) say "the Moonshot balance is used up$detail; top it up on the platform" ;;
    5) say "the API rejected the request$detail" ;;
    6) say "the answer was cut at the token limit$detail; a half review is not a review: raise --max-tokens or --max-continues" ;;
    75) say "Moonshot is busy or unreachable$detail; try again later" ;;
    130) say "interrupted" ;;
    *) say "moonchat failed with exit status $1$detail" ;;
  esac
  exit "$1"
}

# 1. Check that it fits the model's context before paying for it. tokens reads the prompt and
#    standard input exactly as chat does.
tokens=$(moonchat tokens --json "$prompt" <"$input") || fail $?
if [ "$(jq -r .fits <<<"$tokens")" != true ]; then
  say "$(jq -r '"the change is \(.tokens) tokens; \(.model) holds \(.context_length): not reviewed"' <<<"$tokens")"
  exit 0
fi

# ask STDIN ARGS... runs `moonchat chat --format json ARGS...` and leaves the JSON object in
# $answer. With --format json, moonchat prints an object even when the request fails, with an
# error field. moonchat already retries rate limits and server errors a few times before the
# answer starts; exit status 75 means those retries ran out, so waiting a while can still help.
answer=
ask() {
  local stdin=$1 attempt rc
  shift
  for ((attempt = 1; ; attempt++)); do
    answer=$(moonchat chat --format json "$@" <"$stdin") && rc=0 || rc=$?
    case $rc in
      0) return 0 ;;
      75)
        if [ "$attempt" -lt "${ATTEMPTS:-2}" ]; then
          say "temporary failure ($(jq -r .error.type <<<"$answer")), trying again in $((attempt * 30))s"
          sleep $((attempt * 30))
          continue
        fi
        ;;
    esac
    fail "$rc" "$(jq -r '.error | select(.) | "\(.type): \(.message)"' <<<"$answer" 2>/dev/null)"
  done
}

# 2. The review.
ask "$input" "$prompt"
review=$answer
jq -j '.content | if endswith("\n") then . else . + "\n" end' <<<"$review"
# Every parameter that moonchat's fixes changed is in the JSON too.
jq -r '.adjustments[] | "ci.sh: adjusted \(.param): \(.from) → \(if .to == null then "dropped" else .to end) (\(.reason))"' <<<"$review" >&2
say "$(jq -r '"\(.model): \(.usage.prompt_tokens // "?") prompt + \(.usage.completion_tokens // "?") answer tokens, cost \(if .cost then "\(.cost.amount) \(.cost.currency)" else "unknown" end)"' <<<"$review")"

# 3. Continue the same conversation by its id: moonchat sends the earlier turns (the change
#    and the review) with the new question, so it is not pasted again.
id=$(jq -r .conversation_id <<<"$review")
if [ -z "$id" ]; then
  say "no conversation id: history is off (--no-save or save_history: false), so it cannot be continued"
  exit 0
fi
ask /dev/null --conversation "$id" "Your verdict in one line: 'OK' or 'CHANGES NEEDED: <why>'."
verdict=$answer
if [ "$(jq -r .conversation_id <<<"$verdict")" != "$id" ]; then
  say "the follow-up landed in another conversation"
  exit 1
fi
# The follow-up's prompt holds the first exchange, so it is longer than the first prompt.
if [ "$(jq -r '.usage.prompt_tokens // 0' <<<"$verdict")" -le "$(jq -r '.usage.prompt_tokens // 0' <<<"$review")" ]; then
  say "the follow-up did not carry the earlier turns"
  exit 1
fi
printf '\nverdict (conversation %s): %s\n' "$id" "$(jq -r '.content | split("\n") | map(select(length > 0)) | last // ""' <<<"$verdict")"

# 4. A rejected request, to show what the branches above receive: exit status 5 and an object
#    with an error field. Only offline, where it costs nothing.
if [ -n "$offline" ]; then
  rc=0
  rejected=$(moonchat chat --format json -m no-such-model "hi" </dev/null 2>/dev/null) || rc=$?
  if [ "$rc" -ne 5 ] || [ "$(jq -r .error.exit_code <<<"$rejected")" != 5 ]; then
    say "an unknown model should exit 5 with error.exit_code 5, got $rc: $rejected"
    exit 1
  fi
  say "an unknown model is refused as expected: exit $rc, $(jq -r .error.type <<<"$rejected")"
fi
