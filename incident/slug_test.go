package incident_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/incidentbot/incidentbot/incident"
)

// slackChannelName is Slack's rule for a channel name.
var slackChannelName = regexp.MustCompile(`^[a-z0-9_-]{1,80}$`)

func TestSlug(t *testing.T) {
	tests := []struct {
		name string
		text string
		max  int
		want string
	}{
		{"lowercases and joins words", "Checkout is DOWN", 80, "checkout-is-down"},
		{"collapses punctuation and spaces", "  API -- 5xx errors!!  (eu-west-1) ", 80, "api-5xx-errors-eu-west-1"},
		{"underscores become hyphens", "db_primary__failover", 80, "db-primary-failover"},
		{"folds accents", "Café à Zürich, Łódź", 80, "cafe-a-zurich-lodz"},
		{"folds upper-case accents", "ÉTÉ ÀÇÖ", 80, "ete-aco"},
		{"folds eszett and ae", "Straße Æther", 80, "strasse-aether"},
		{"drops emoji", "🔥 DB down 🔥", 80, "db-down"},
		{"drops right-to-left script", "خطأ في قاعدة البيانات DB", 80, "db"},
		{"drops CJK", "数据库 down 障害", 80, "down"},
		{"nothing left", "🔥🚨 数据库", 80, ""},
		{"empty", "", 80, ""},
		{"zero max", "checkout", 0, ""},
		{"fits exactly", "alpha beta", 10, "alpha-beta"},
		{"cuts at a word boundary", "alpha beta gamma", 12, "alpha-beta"},
		{"cut falls on a hyphen", "alpha beta gamma", 11, "alpha-beta"},
		{"cuts a single long word", "abcdefghijkl", 5, "abcde"},
		{"cuts mid-word when the last boundary is too early", "ab cdefghij", 6, "ab-cde"},
		{"keeps digits", "Release 2024.10.3 broke v2 API", 80, "release-2024-10-3-broke-v2-api"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := incident.Slug(tc.text, tc.max)
			if got != tc.want {
				t.Errorf("Slug(%q, %d) = %q, want %q", tc.text, tc.max, got, tc.want)
			}
			if len(got) > tc.max && tc.max >= 0 {
				t.Errorf("Slug(%q, %d) = %q is %d bytes, over the maximum", tc.text, tc.max, got, len(got))
			}
		})
	}
}

func TestChannelName(t *testing.T) {
	long := strings.Repeat("database connection pool exhausted on the primary cluster ", 5)
	tests := []struct {
		name    string
		id      int64
		title   string
		attempt int
		want    string
	}{
		{"title becomes the slug", 42, "Checkout failing for EU customers", 1, "inc-42-checkout-failing-for-eu-customers"},
		{"attempt 0 has no suffix", 42, "Checkout", 0, "inc-42-checkout"},
		{"attempt 2 adds a suffix", 42, "Checkout", 2, "inc-42-checkout-2"},
		{"empty slug", 7, "", 1, "inc-7"},
		{"slug of only emoji", 7, "🔥🔥🔥", 1, "inc-7"},
		{"empty slug with attempt 2", 7, "", 2, "inc-7-2"},
		{"accents folded", 3, "Paiement échoué", 1, "inc-3-paiement-echoue"},
		{"long title cut at a word", 1, long, 1,
			"inc-1-database-connection-pool-exhausted-on-the-primary-cluster-database"},
		{"long title with attempt 2 still fits", 1, long, 2,
			"inc-1-database-connection-pool-exhausted-on-the-primary-cluster-database-2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := incident.ChannelName(tc.id, tc.title, tc.attempt)
			if got != tc.want {
				t.Errorf("ChannelName(%d, %q, %d) = %q, want %q", tc.id, tc.title, tc.attempt, got, tc.want)
			}
			if !slackChannelName.MatchString(got) {
				t.Errorf("ChannelName(%d, %q, %d) = %q breaks Slack's naming rules", tc.id, tc.title, tc.attempt, got)
			}
		})
	}
}

// TestChannelNameAlwaysValid checks Slack's rules and the word-boundary cut
// over awkward titles, large incident numbers and retry attempts.
func TestChannelNameAlwaysValid(t *testing.T) {
	titles := map[string]string{
		"long words":      strings.Repeat("supercalifragilistic ", 10),
		"one huge word":   strings.Repeat("x", 300),
		"accents":         strings.Repeat("Ça coûte très cher à Besançon ", 6),
		"mixed scripts":   strings.Repeat("🔥 支付 outage مرحبا עברית Ελληνικά down ", 6),
		"punctuation":     strings.Repeat("a.b/c\\d:e;f ", 30),
		"upper case":      strings.Repeat("CHECKOUT IS DOWN FOR EVERYONE ", 5),
		"boundary at 72":  strings.Repeat("abcdefgh ", 20),
		"hyphens in text": strings.Repeat("eu-west-1 ", 20),
	}
	for name, title := range titles {
		for _, id := range []int64{1, 42, 99999, 123456789012} {
			for _, attempt := range []int{1, 2, 9, 10, 100} {
				got := incident.ChannelName(id, title, attempt)
				if !slackChannelName.MatchString(got) {
					t.Errorf("%s, id %d, attempt %d: %q breaks Slack's naming rules (%d chars)", name, id, attempt, got, len(got))
				}
				if strings.Contains(got, "--") || strings.HasSuffix(got, "-") {
					t.Errorf("%s, id %d, attempt %d: %q has a stray hyphen", name, id, attempt, got)
				}
				if attempt > 1 && !strings.HasSuffix(got, "-"+strconv.Itoa(attempt)) {
					t.Errorf("%s, id %d, attempt %d: %q lost its attempt suffix", name, id, attempt, got)
				}
				// The slug is the start of the whole title's slug, ending at a
				// word boundary unless the first word alone is too long.
				prefix := "inc-" + strconv.FormatInt(id, 10) + "-"
				slug := strings.TrimPrefix(got, prefix)
				if attempt > 1 {
					slug = strings.TrimSuffix(slug, "-"+strconv.Itoa(attempt))
				}
				full := incident.Slug(title, 1000)
				if !strings.HasPrefix(full, slug) {
					t.Errorf("%s, id %d, attempt %d: slug %q is not the start of %q", name, id, attempt, slug, full)
					continue
				}
				if rest := full[len(slug):]; rest != "" && rest[0] != '-' && strings.Contains(slug, "-") {
					t.Errorf("%s, id %d, attempt %d: %q is cut mid-word", name, id, attempt, got)
				}
			}
		}
	}
}
