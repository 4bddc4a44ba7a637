package main

import (
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// longTitle is n characters of mixed scripts, accents and emoji.
func longTitle(n int) string {
	parts := []rune("Checkout down for EU — café 東京 🔥 ")
	out := make([]rune, n)
	for i := range out {
		out[i] = parts[i%len(parts)]
	}
	out[n-1] = 'Z' // no trailing space to trim
	return string(out)
}

// TestBadInputIsStoredFaithfullyAndNeverNotifiesEveryone sends hostile and
// awkward text as incident titles, notes, affected services, follow-ups,
// TL: messages, pinned messages and resolution notes: a 5,000-character
// title, control characters, right to left text and emoji, Slack's special mentions (<!channel>, <!here>,
// <!everyone>, a user group), plain @here, a user mention and a labelled
// link. Each is acked and answered, stored exactly as Slack sent it, and
// nothing the bot posts, answers, sets as a topic or announces, nor the
// postmortem draft, contains a live special mention or a bidi control.
func TestBadInputIsStoredFaithfullyAndNeverNotifiesEveryone(t *testing.T) {
	h := newHarness(t)
	inputs := []struct{ name, text string }{
		{"5,000 characters", longTitle(5000)},
		{"control characters", "Disk\x00full \x07bell \x1b[31mred\x1b[0m \x7f\x01\x1f tab\there \u202eevil\u202c \u200bzero-width"},
		{"right to left and emoji", "שרת התשלומים נפל — الخادم معطل 🔥🚒 👩🏽‍🚒 :fire:"},
		{"special mentions", "Paging <!channel> <!here> <!everyone> <!subteam^S0ONCALL|@oncall> <!here|here> and plain @here @channel @everyone"},
		{"user mention and link", fmt.Sprintf("Ask <@%s> or see <https://status.example.com/incidents/1?a=1&b=2|status-page>", h.bob)},
	}
	type sent struct {
		title, note, tl, pinned, resolution string // as Slack delivered them
		tlTS, pinTS                         string
	}
	got := make([]sent, len(inputs))
	var drafts []string
	for i, in := range inputs {
		n := i + 1
		ref := "INC-" + itoa(n)
		id := h.fake.SlashCommand(h.alice, h.general, "declare sev2 "+in.text)
		if ack := ackText(h.waitAck(id)); !strings.Contains(ack, "Declared *"+ref+"*") {
			t.Errorf("%s: declare answered %q", in.name, ack)
		}
		_, rest := cutWord(h.slashText(id))
		_, got[i].title = cutWord(rest)
		ch := h.incidentChannel(n)
		h.ExpectMessage(ch.ID, ref)

		id = h.fake.SlashCommand(h.alice, ch.ID, "note "+in.text)
		if ack := ackText(h.waitAck(id)); !strings.Contains(ack, "Added to the "+ref+" timeline") {
			t.Errorf("%s: note answered %q", in.name, ack)
		}
		_, got[i].note = cutWord(h.slashText(id))

		h.slash(h.alice, ch.ID, "impact "+in.text)
		h.slash(h.alice, ch.ID, "followup "+in.text)
		got[i].tlTS = h.fake.PostMessage(h.alice, ch.ID, "TL: "+in.text)
		got[i].pinTS = h.fake.PostMessage(h.alice, ch.ID, in.text)
		h.fake.AddReaction(h.alice, ch.ID, got[i].pinTS, "pushpin")
		for _, ts := range []string{got[i].tlTS, got[i].pinTS} {
			h.ExpectBotReaction(ch.ID, ts, "white_check_mark", true)
		}
		m, _ := h.fake.Message(ch.ID, got[i].tlTS)
		got[i].tl = strings.TrimSpace(strings.TrimPrefix(m.Text, "TL:"))
		m, _ = h.fake.Message(ch.ID, got[i].pinTS)
		got[i].pinned = m.Text

		for _, cmd := range []string{"", "status", "timeline"} {
			if ack := ackText(h.slash(h.alice, ch.ID, cmd)); !strings.Contains(ack, ref) {
				t.Errorf("%s: /incident %s answered %q", in.name, cmd, ack)
			}
		}
		if ack := ackText(h.slash(h.alice, h.general, "list")); !strings.Contains(ack, ref) {
			t.Errorf("%s: /incident list answered %q", in.name, ack)
		}
		h.slash(h.alice, ch.ID, "severity sev1") // announced, with the title
		h.ExpectMessage(h.announce, ref+" upgraded to SEV1")
		id = h.fake.SlashCommand(h.alice, ch.ID, "resolve "+in.text)
		h.waitAck(id)
		_, got[i].resolution = cutWord(h.slashText(id))
		h.ExpectMessage(ch.ID, ref+" resolved")
		h.ExpectMessage(h.announce, ref+" resolved")
		drafts = append(drafts, h.postmortemOf(n))
		h.idle()
	}
	h.waitFor("every envelope to be acked", func() bool { return len(h.fake.Unacked()) == 0 })

	// Stored as Slack sent it.
	h.view(func(tx *store.Tx) error {
		for i, in := range inputs {
			id := int64(i + 1)
			inc, err := tx.Incident(id)
			if err != nil {
				return err
			}
			// A title is one line: runs of white space become one space.
			want := strings.Join(strings.Fields(got[i].title), " ")
			title := inc.Title
			if utf8.RuneCountInString(want) > incident.MaxTitle {
				// A long title is cut for Slack; the rest opens the
				// description, so none of it is lost.
				title = strings.TrimSuffix(inc.Title, "…") + strings.TrimPrefix(inc.Description, "…")
			}
			if title != want {
				t.Errorf("%s: stored title %q\nwant %q", in.name, title, want)
			}
			entries, err := tx.Timeline(id)
			if err != nil {
				return err
			}
			var note, tl, pinned, resolution bool
			for _, e := range entries {
				switch {
				case e.Kind == incident.KindNote && e.Source == "" && e.Text == got[i].note:
					note = true
				case e.Kind == incident.KindNote && strings.HasSuffix(e.Source, "/"+got[i].tlTS):
					tl = e.Text == got[i].tl
				case e.Kind == incident.KindMessage && strings.HasSuffix(e.Source, "/"+got[i].pinTS):
					pinned = e.Text == got[i].pinned && !e.Pending
				case e.Kind == incident.KindEvent && strings.Contains(e.Text, got[i].resolution):
					resolution = true
				}
			}
			if !note || !tl || !pinned || !resolution {
				t.Errorf("%s: stored faithfully: /incident note %v, TL: %v, pinned message %v, resolution note %v",
					in.name, note, tl, pinned, resolution)
			}
		}
		return nil
	})

	// Never a live special mention, nor a bidi control that would reverse
	// what follows, in anything the bot showed anyone or in a draft.
	shown := everythingShown(h.fake, h.alice, h.bob)
	all := shown
	for i, d := range drafts {
		all = append(all, shownText{"the draft of INC-" + itoa(i+1), d})
	}
	for _, s := range all {
		if m := liveSpecial.FindString(s.text); m != "" {
			t.Errorf("%s has a live %q: %q", s.where, m, s.text)
		}
		if m := bidiControl.FindString(s.text); m != "" {
			t.Errorf("%s carries the bidi control %U: %q", s.where, []rune(m)[0], s.text)
		}
	}
	if d := drafts[3]; strings.Contains(d, "@oncall") || strings.Contains(d, "<!") {
		t.Errorf("the draft keeps a group mention or Slack markup:\n%s", d)
	}
	// The labelled link and the user mention stay live.
	if !containsAny(texts(shown), "<https://status.example.com/incidents/1?a=1&b=2|status-page>") {
		t.Errorf("the labelled link was not shown as a link anywhere")
	}
	if !containsAny(texts(shown), "<@"+h.bob+">") {
		t.Errorf("the user mention was not shown as a mention anywhere")
	}
	// The scan saw the special mentions echoed, defused with a word joiner.
	if !containsAny(texts(shown), "@\u2060channel") || !containsAny(texts(shown), "@\u2060here") {
		t.Errorf("the special mentions were not echoed (defused) anywhere: the scan proves nothing")
	}
	// Slack refused nothing the bot sent (a too long topic or text would
	// come back as a warning in the channel).
	for _, s := range shown {
		if strings.Contains(s.text, "I could not") {
			t.Errorf("%s: %q", s.where, s.text)
		}
	}
	for _, c := range h.fake.Calls("") {
		if c.Error != "" {
			t.Errorf("Slack refused %s: %s", c.Method, c.Error)
		}
	}
	t.Logf("scanned %d texts the bot showed", len(shown))
}

// cutWord splits off the first word, as the bot's command parser does.
func cutWord(s string) (word, rest string) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}
