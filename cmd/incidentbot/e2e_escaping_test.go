package main

// Nothing the bot shows pings or rewrites: user text in every output goes
// through one escaping path (handlers.Safe for Slack mrkdwn,
// handlers.PlainSafe for plain_text, the draft's for the postmortem), all
// built on incident.Defuse.

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// bidiControl matches the bidi controls that open a direction and would
// reverse or reorder what follows them: embeddings, overrides, isolates.
var bidiControl = regexp.MustCompile("[\u202a-\u202e\u2066-\u2069]")

// postmortemOf waits for incident n's postmortem draft and returns it.
func (h *harness) postmortemOf(n int) string {
	h.t.Helper()
	return string(h.ExpectUpload("INC-" + itoa(n) + "-postmortem.md").Content)
}

// shownAndDraft is everything the bot showed alice and bob, the plain_text
// of its blocks (a header: shown literally, but shown), and the draft.
func (h *harness) shownAndDraft(draft string) []shownText {
	shown := everythingShown(h.fake, h.alice, h.bob)
	for _, c := range h.fake.Channels() {
		for _, m := range h.fake.Messages(c.ID) {
			if m.User == h.fake.BotUserID() && len(m.Blocks) > 0 {
				shown = append(shown, shownText{fmt.Sprintf("blocks of %s in %s, plain_text too", m.TS, c.ID), blockText(m.Blocks)})
			}
		}
	}
	return append(shown, shownText{"the postmortem draft", draft})
}

// TestEscapingSpecialMentionsNeverPing sends Slack's special mentions
// through every command that echoes what it was given (impact, follow-up,
// customer update, resolve, an unknown declare option): nothing the bot
// shows, nor the draft, pings @channel, @here, @everyone or a user group,
// and the mentions are still shown, as text.
func TestEscapingSpecialMentionsNeverPing(t *testing.T) {
	h := newHarness(t, withStatusChannel)
	ack := ackText(h.slash(h.alice, h.general, "declare --<!channel> x"))
	if !strings.Contains(ack, "is not an option of declare") {
		t.Errorf("declare --<!channel> answered %q", ack)
	}
	if m := liveSpecial.FindString(ack); m != "" {
		t.Errorf("the declare error has a live %q: %q", m, ack)
	}

	ch := h.declared(1, "declare sev2 Checkout down")
	h.slash(h.alice, ch.ID, "impact <!channel>, API <!subteam^S0123|@oncall>")
	post := h.ExpectMessage(ch.ID, "Affected services:")
	if !containsAll(post.Text, "@\u2060channel", "API @\u2060oncall") {
		t.Errorf("the impact post does not show the services as text: %q", post.Text)
	}
	h.ExpectSummary(ch.ID, h.summaryTS(1), "API @\u2060oncall")
	if ack := ackText(h.slash(h.alice, ch.ID, "impact <!channel>")); !strings.Contains(ack, "Already recorded") {
		t.Errorf("impact again answered %q", ack)
	}
	h.slash(h.alice, ch.ID, "followup short-term: tell <!here> and <!subteam^S0123|@oncall>")
	h.slash(h.alice, ch.ID, "update investigating Heads up <!everyone> @here")
	h.click(h.alice, ch.ID, h.updatePreview(ch.ID).TS, "update_post")
	h.ExpectMessage(h.cfg.StatusChannel, "Heads up")
	h.slash(h.alice, ch.ID, "timeline")
	h.slash(h.alice, ch.ID, "resolve Told <!channel> and <!subteam^S0123|@oncall>")
	draft := h.postmortemOf(1)
	h.idle()

	for _, s := range h.shownAndDraft(draft) {
		if m := liveSpecial.FindString(s.text); m != "" {
			t.Errorf("%s has a live %q: %q", s.where, m, s.text)
		}
	}
	// A group handle pasted back from the draft would ping the group too.
	if strings.Contains(draft, "@oncall") || strings.Contains(draft, "<!") {
		t.Errorf("the draft keeps a group mention or Slack markup:\n%s", draft)
	}
	for _, part := range []string{"@\u2060channel, API @\u2060oncall", "tell @\u2060here and @\u2060oncall",
		"Heads up @\u2060everyone @\u2060here", "Told @\u2060channel and @\u2060oncall"} {
		if !strings.Contains(draft, part) {
			t.Errorf("the draft lacks %q:\n%s", part, draft)
		}
	}
}

// userMarkdown is a multi-line text each of whose lines would start a
// Markdown block of its own (tagged, to find it in the draft).
func userMarkdown(tag string) string {
	return strings.Join([]string{
		"Fix the alerting " + tag, "## Root cause " + tag, "- not a list " + tag, "> not a quote " + tag,
		"| not | a row " + tag + " |", "1. not a list " + tag, "<!-- not a comment " + tag, "```not a fence " + tag,
		"", "# after a blank line " + tag,
	}, "\n")
}

// blockStart matches a line (its indentation removed) that Markdown would
// read as the start of a block: a heading, quote, list item, table row,
// HTML block or code fence.
var blockStart = regexp.MustCompile("^(#{1,6}([ \t]|$)|>|[-+*]([ \t]|$)|[0-9]{1,9}[.)]([ \t]|$)|\\||<[A-Za-z/!?]|```|~~~)")

// draftHeadings are the headings of the default postmortem template.
var draftHeadings = []string{"# INC-1: Cache outage", "## Summary", "## Impact", "## Key times (UTC)", "## Timeline (UTC)",
	"## Responders and paging", "## Customer communication", "## Root cause and contributing factors",
	"## Resolution and recovery", "## Lessons learned", "## Follow-up actions"}

// place is where a user text goes in the draft: the start of its first
// line (a regexp: the item's marker and what the template puts before the
// text) and the indentation that keeps its other lines in the item.
type place struct {
	prefix string
	indent int
}

// userTextProblems checks that the text tagged tag is in the draft once for
// each of places, and stays there: its first line opens as the place does,
// every other line is indented to at least the place's indent, and none
// starts a block of its own.
func userTextProblems(doc, tag string, places ...place) []string {
	var problems []string
	var at *place
	seen := 0
	for _, l := range strings.Split(doc, "\n") {
		if !strings.Contains(l, tag) {
			continue
		}
		if strings.Contains(l, "Fix the alerting "+tag) {
			at = nil
			for i, p := range places {
				if regexp.MustCompile("^" + p.prefix + "Fix the alerting " + tag).MatchString(l) {
					at = &places[i]
				}
			}
			if at == nil {
				problems = append(problems, fmt.Sprintf("%s: first line %q opens in no expected place", tag, l))
			}
			seen++
			continue
		}
		body := strings.TrimLeft(l, " ")
		switch {
		case at == nil:
		case len(l)-len(body) < at.indent:
			problems = append(problems, fmt.Sprintf("%s: %q is indented less than %d: it leaves its item", tag, l, at.indent))
		case blockStart.MatchString(body):
			problems = append(problems, fmt.Sprintf("%s: %q starts a block of its own", tag, l))
		}
	}
	if seen != len(places) {
		problems = append(problems, fmt.Sprintf("%s: in the draft %d times, want %d", tag, seen, len(places)))
	}
	return problems
}

// TestMarkdownInUserTextStaysInItsItem puts multi-line texts that look like
// Markdown in every place of the draft that takes user text: a description
// (from the declare form), a :memo: follow-up, a TL: line, a pinned message
// and the resolution note. In the draft each stays inside its list item or
// paragraph: no heading, quote, list, table row, HTML block or fence of its
// own, and the draft has only the template's headings.
func TestMarkdownInUserTextStaysInItsItem(t *testing.T) {
	h := newHarness(t)
	h.slash(h.alice, h.general, "declare")
	h.waitFor("the declare modal", func() bool { return len(h.fake.Views()) == 1 })
	h.submit(h.alice, h.fake.Views()[0].ID, map[string]map[string]string{
		"title": {"title": "Cache outage"}, "severity": {"severity": "sev2"},
		"description": {"description": userMarkdown("DSC")}})
	ch := h.incidentChannel(1)
	h.ExpectMessage(ch.ID, "INC-1")
	h.fake.JoinChannel(h.bob, ch.ID)

	fup := h.fake.PostMessage(h.bob, ch.ID, userMarkdown("FUP"))
	h.fake.AddReaction(h.alice, ch.ID, fup, "memo")
	tl := h.fake.PostMessage(h.alice, ch.ID, "TL: "+userMarkdown("TLN"))
	pin := h.fake.PostMessage(h.bob, ch.ID, userMarkdown("PIN"))
	h.fake.AddReaction(h.alice, ch.ID, pin, "pushpin")
	for _, ts := range []string{fup, tl, pin} {
		h.ExpectBotReaction(ch.ID, ts, "white_check_mark", true)
	}
	h.slash(h.alice, ch.ID, "resolve "+userMarkdown("RES"))
	draft := h.postmortemOf(1)

	var problems []string
	item := func(author string) place { return place{`- \*\*\[[^]]+\]\*\* ` + author, 2} }
	paragraph := place{"", 0}
	problems = append(problems, userTextProblems(draft, "DSC", paragraph)...)
	problems = append(problems, userTextProblems(draft, "FUP", place{`[0-9]+\. `, 3})...)
	problems = append(problems, userTextProblems(draft, "TLN", item("alice: "))...)
	problems = append(problems, userTextProblems(draft, "PIN", item("bob: "))...)
	problems = append(problems, userTextProblems(draft, "RES", item("_incidentbot:_ Resolved by @alice: "), paragraph)...)
	var headings []string
	for _, l := range strings.Split(draft, "\n") {
		if regexp.MustCompile(`^ {0,3}#{1,6}([ \t]|$)`).MatchString(l) {
			headings = append(headings, l)
		}
	}
	if !slices.Equal(headings, draftHeadings) {
		problems = append(problems, fmt.Sprintf("headings %q, want the template's %q", headings, draftHeadings))
	}
	// Each text still reads as it was typed.
	for _, part := range []string{"## Root cause FUP", "- not a list TLN", "> not a quote PIN", "| not | a row RES |", "1. not a list DSC"} {
		if !strings.Contains(strings.ReplaceAll(draft, `\`, ""), part) {
			problems = append(problems, fmt.Sprintf("the draft lacks %q", part))
		}
	}
	for _, p := range problems {
		t.Error(p)
	}
	if t.Failed() {
		t.Logf("draft:\n%s", draft)
	}
}

// TestBidiControlsNeverReverseWhatFollows declares an incident whose title
// opens a right-to-left override (and an isolate and an embedding it never
// closes), and puts the same in a note, the impact and the resolution: no
// announcement, summary, topic, answer or the draft carries a control that
// would reverse the text after it, and the title still reads.
func TestBidiControlsNeverReverseWhatFollows(t *testing.T) {
	h := newHarness(t)
	title := "Checkout \u202edown for \u2067EU\u202b customers"
	ch := h.declared(1, "declare sev2 "+title)
	h.ExpectMessage(h.announce, "INC-1 declared")
	h.ExpectTopic(ch.ID, "INC-1")
	h.ExpectSummary(ch.ID, h.summaryTS(1), "INC-1")
	h.slash(h.alice, ch.ID, "note \u202eevil note")
	h.slash(h.alice, ch.ID, "impact \u202eapi, search")
	h.slash(h.alice, ch.ID, "status")
	h.slash(h.alice, h.general, "list")
	h.slash(h.alice, ch.ID, "severity sev1")
	h.ExpectMessage(h.announce, "INC-1 upgraded to SEV1")
	h.slash(h.alice, ch.ID, "resolve \u202eundone")
	h.ExpectMessage(h.announce, "INC-1 resolved")
	draft := h.postmortemOf(1)
	h.idle()

	shown := h.shownAndDraft(draft)
	for _, s := range shown {
		if m := bidiControl.FindString(s.text); m != "" {
			t.Errorf("%s carries the bidi control %U: %q", s.where, []rune(m)[0], s.text)
		}
	}
	for _, where := range []string{"announce", "topic", "summary", "draft"} {
		var found bool
		for _, s := range shown {
			in := where == "announce" && strings.Contains(s.where, h.announce) ||
				where == "topic" && strings.HasPrefix(s.where, "topic of "+ch.ID) ||
				where == "summary" && strings.Contains(s.where, "plain_text too") && strings.Contains(s.text, "INC-1: ") ||
				where == "draft" && s.where == "the postmortem draft"
			found = found || in && strings.Contains(s.text, "Checkout down for EU customers")
		}
		if !found {
			t.Errorf("the %s does not show the title", where)
		}
	}
}

// TestImpactPhraseIsOneService: a phrase without separators is one service;
// commas, semicolons and new lines separate services.
func TestImpactPhraseIsOneService(t *testing.T) {
	h := newHarness(t)
	ch := h.declared(1, "declare sev2 Assets missing")
	h.slash(h.alice, ch.ID, "impact static assets")
	h.ExpectSummary(ch.ID, h.summaryTS(1), "Affected: static assets")
	if got := h.storedIncident(1).Services; !slices.Equal(got, []string{"static assets"}) {
		t.Errorf("impact static assets recorded %q, want one service", got)
	}
	h.slash(h.alice, ch.ID, "impact User API; Admin API\nSearch, Billing exports")
	want := []string{"static assets", "User API", "Admin API", "Search", "Billing exports"}
	h.ExpectSummary(ch.ID, h.summaryTS(1), "Affected: "+strings.Join(want, ", "))
	if got := h.storedIncident(1).Services; !slices.Equal(got, want) {
		t.Errorf("services %q, want %q", got, want)
	}
}
