package slackfake

import (
	"encoding/json"
	"strconv"
	"strings"
)

// nextBlockID returns a short deterministic block_id. Slack fills in a
// random 3–5 character block_id for blocks posted without one. The caller
// holds s.mu.
func (s *Server) nextBlockID() string {
	s.seq++
	return strconv.FormatInt(s.seq*48271%238328+3844, 36)
}

// normalizeBlocks fills in the block_id and action_id values Slack
// generates for blocks and interactive elements posted without them. Input
// it cannot parse is returned unchanged; callers validate first.
func normalizeBlocks(raw json.RawMessage, genID func() string) json.RawMessage {
	var blocks []map[string]any
	if json.Unmarshal(raw, &blocks) != nil {
		return raw
	}
	for _, b := range blocks {
		if id, _ := b["block_id"].(string); id == "" {
			b["block_id"] = genID()
		}
		for _, el := range blockElements(b) {
			if _, interactive := el["type"].(string); interactive && isInteractive(el) {
				if id, _ := el["action_id"].(string); id == "" {
					el["action_id"] = genID()
				}
			}
		}
	}
	return mustJSON(blocks)
}

// blockElements returns the interactive-capable elements of a block:
// actions elements, a section accessory, an input element.
func blockElements(b map[string]any) []map[string]any {
	var out []map[string]any
	if els, ok := b["elements"].([]any); ok && b["type"] == "actions" {
		for _, e := range els {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	for _, k := range []string{"accessory", "element"} {
		if m, ok := b[k].(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func isInteractive(el map[string]any) bool {
	switch el["type"] {
	case "image", "plain_text", "mrkdwn":
		return false
	}
	return true
}

// validBlocks reports whether raw is a JSON array of objects with a type,
// the minimum Slack checks before answering invalid_blocks.
func validBlocks(raw json.RawMessage) bool {
	var blocks []map[string]any
	if json.Unmarshal(raw, &blocks) != nil {
		return false
	}
	for _, b := range blocks {
		if t, _ := b["type"].(string); t == "" {
			return false
		}
	}
	return true
}

// findElement finds an interactive element by action_id in a block list
// and returns it with its block_id.
func findElement(raw json.RawMessage, actionID string) (map[string]any, string, bool) {
	var blocks []map[string]any
	if json.Unmarshal(raw, &blocks) != nil {
		return nil, "", false
	}
	for _, b := range blocks {
		for _, el := range blockElements(b) {
			if el["action_id"] == actionID {
				id, _ := b["block_id"].(string)
				return el, id, true
			}
		}
	}
	return nil, "", false
}

// optionFor finds the option with the given value among an element's
// options or option_groups, or synthesises one.
func optionFor(el map[string]any, value string) any {
	var opts []any
	if o, ok := el["options"].([]any); ok {
		opts = o
	}
	if groups, ok := el["option_groups"].([]any); ok {
		for _, g := range groups {
			if gm, ok := g.(map[string]any); ok {
				if o, ok := gm["options"].([]any); ok {
					opts = append(opts, o...)
				}
			}
		}
	}
	for _, o := range opts {
		if om, ok := o.(map[string]any); ok && om["value"] == value {
			return om
		}
	}
	return obj{"text": obj{"type": "plain_text", "text": value, "emoji": true}, "value": value}
}

// elementState renders the state value Slack reports for an input element
// given the value a person entered. Multi-value elements take a
// comma-separated list. An empty value renders as Slack renders an
// untouched element.
func elementState(el map[string]any, value string, provided bool) obj {
	typ, _ := el["type"].(string)
	st := obj{"type": typ}
	list := func() []string {
		if value == "" {
			return []string{}
		}
		return strings.Split(value, ",")
	}
	switch typ {
	case "static_select", "external_select", "radio_buttons":
		st["selected_option"] = nil
		if provided && value != "" {
			st["selected_option"] = optionFor(el, value)
		}
	case "multi_static_select", "multi_external_select", "checkboxes":
		opts := []any{}
		for _, v := range list() {
			opts = append(opts, optionFor(el, v))
		}
		st["selected_options"] = opts
	case "users_select":
		st["selected_user"] = nilIfEmpty(value)
	case "multi_users_select":
		st["selected_users"] = list()
	case "conversations_select":
		st["selected_conversation"] = nilIfEmpty(value)
	case "multi_conversations_select":
		st["selected_conversations"] = list()
	case "channels_select":
		st["selected_channel"] = nilIfEmpty(value)
	case "multi_channels_select":
		st["selected_channels"] = list()
	case "datepicker":
		st["selected_date"] = nilIfEmpty(value)
	case "timepicker":
		st["selected_time"] = nilIfEmpty(value)
	case "datetimepicker":
		n, _ := strconv.ParseInt(value, 10, 64)
		st["selected_date_time"] = n
	case "rich_text_input":
		var rt any
		_ = json.Unmarshal(richTextFor(encodeTyped(value, true), ""), &rt)
		if arr, ok := rt.([]any); ok && len(arr) == 1 {
			if m, ok := arr[0].(map[string]any); ok {
				delete(m, "block_id")
			}
			rt = arr[0]
		}
		st["rich_text_value"] = rt
	default: // plain_text_input, number_input, email/url_text_input
		st["value"] = nilIfEmpty(value)
	}
	return st
}

func nilIfEmpty(v string) any {
	if v == "" {
		return nil
	}
	return v
}
