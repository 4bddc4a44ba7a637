package slackfake

import (
	"regexp"
	"strings"
)

// Text a person types reaches apps in Slack's encoding: the client escapes
// &, < and > as HTML entities, mentions travel as <@U…>, <#C…|name> and
// <!here>, and the server wraps URLs it detects in <…>. The actor methods
// take text as typed, with mentions already in their <…> form, and apply
// the rest here.

// markupRE matches the control sequences that must survive escaping.
var markupRE = regexp.MustCompile(`<(?:[@#!][^<>]+|(?:https?://|mailto:)[^<>\s]+)>`)

// urlRE matches bare URLs in escaped text, which Slack's server turns into
// links after the client has escaped them (so a link keeps its &amp;).
var urlRE = regexp.MustCompile(`https?://(?:[^\s<>&]|&amp;)+`)

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

var htmlUnescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// encodeTyped turns typed text into what Slack sends. linkURLs wraps bare
// URLs in <…>, as happens for messages (not for slash command text).
func encodeTyped(text string, linkURLs bool) string {
	var b strings.Builder
	last := 0
	plain := func(seg string) {
		seg = htmlEscaper.Replace(seg)
		if linkURLs {
			seg = urlRE.ReplaceAllString(seg, "<$0>")
		}
		b.WriteString(seg)
	}
	for _, m := range markupRE.FindAllStringIndex(text, -1) {
		plain(text[last:m[0]])
		b.WriteString(text[m[0]:m[1]])
		last = m[1]
	}
	plain(text[last:])
	return b.String()
}

// tokenRE splits encoded text into Slack's control sequences.
var tokenRE = regexp.MustCompile(`<([@#!]|https?://|mailto:)([^>|]*)(?:\|([^>]*))?>`)

// richTextFor builds the rich_text block Slack attaches to a message a
// person typed, from its encoded text: mentions, channels, broadcasts and
// links become their own elements, the rest is unescaped text.
func richTextFor(encoded, blockID string) []byte {
	var els []obj
	add := func(t string) {
		if t != "" {
			els = append(els, obj{"type": "text", "text": htmlUnescaper.Replace(t)})
		}
	}
	last := 0
	for _, m := range tokenRE.FindAllStringSubmatchIndex(encoded, -1) {
		add(encoded[last:m[0]])
		kind, id := encoded[m[2]:m[3]], encoded[m[4]:m[5]]
		switch kind {
		case "@":
			els = append(els, obj{"type": "user", "user_id": id})
		case "#":
			els = append(els, obj{"type": "channel", "channel_id": id})
		case "!":
			els = append(els, obj{"type": "broadcast", "range": id})
		default:
			link := obj{"type": "link", "url": htmlUnescaper.Replace(kind + id)}
			if m[6] >= 0 {
				link["text"] = htmlUnescaper.Replace(encoded[m[6]:m[7]])
			}
			els = append(els, link)
		}
		last = m[1]
	}
	add(encoded[last:])
	return mustJSON([]obj{{
		"type": "rich_text", "block_id": blockID,
		"elements": []obj{{"type": "rich_text_section", "elements": els}},
	}})
}
