package incident

import (
	"strconv"
	"strings"
)

// MaxChannelName is Slack's limit on a channel name's length.
const MaxChannelName = 80

// ChannelName returns the channel name for incident n: "inc-<n>-<slug>",
// following Slack's rules (lowercase, at most 80 characters, only a-z 0-9 - _).
// attempt > 1 adds a suffix, for when the name is taken.
func ChannelName(n int64, title string, attempt int) string {
	prefix := "inc-" + strconv.FormatInt(n, 10)
	suffix := ""
	if attempt > 1 {
		suffix = "-" + strconv.Itoa(attempt)
	}
	// The title is stored as Slack sends text (&amp; &lt; &gt;, <links>);
	// slug what a person reads, not the escapes.
	slug := Slug(Markdown(title, nil), MaxChannelName-len(prefix)-len(suffix)-1)
	if slug == "" {
		return prefix + suffix
	}
	return prefix + "-" + slug + suffix
}

// latinFold maps accented Latin letters to their plain forms, so that
// "Café" slugs to "cafe" rather than "caf" without a Unicode dependency.
var latinFold = strings.NewReplacer(
	"à", "a", "á", "a", "â", "a", "ã", "a", "ä", "a", "å", "a", "æ", "ae",
	"ç", "c", "è", "e", "é", "e", "ê", "e", "ë", "e", "ì", "i", "í", "i",
	"î", "i", "ï", "i", "ñ", "n", "ò", "o", "ó", "o", "ô", "o", "õ", "o",
	"ö", "o", "ø", "o", "ß", "ss", "ù", "u", "ú", "u", "û", "u", "ü", "u",
	"ý", "y", "ÿ", "y", "ł", "l", "ś", "s", "ź", "z", "ż", "z", "ć", "c",
	"ń", "n", "ę", "e", "ą", "a", "č", "c", "š", "s", "ž", "z", "ř", "r",
)

// Slug turns free text into lowercase words of a-z and 0-9 joined by single
// hyphens, at most max bytes long, cut at a word boundary where possible.
// Common accents are folded ("Café" → "cafe"); other scripts are left out.
func Slug(text string, max int) string {
	if max <= 0 {
		return ""
	}
	var b strings.Builder
	pendingHyphen := false
	for _, r := range latinFold.Replace(strings.ToLower(text)) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if pendingHyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			pendingHyphen = false
			b.WriteRune(r)
			if b.Len() > max+1 { // enough to know we must cut
				break
			}
			continue
		}
		if r >= 0x300 && r <= 0x36f {
			// A combining accent (decomposed "u" + "¨"): part of the letter
			// before it, not a word break.
			continue
		}
		pendingHyphen = true
	}
	s := b.String()
	if len(s) <= max {
		return s
	}
	cut := s[:max]
	if i := strings.LastIndexByte(s[:max+1], '-'); i > max/2 {
		cut = s[:i]
	}
	return strings.Trim(cut, "-")
}
