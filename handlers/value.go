package handlers

import (
	"fmt"
	"strconv"
	"strings"
)

// Button values and modal private_metadata name what they act on: an
// incident and the ids of things inside it (a draft, an escalation and a
// page), as "<incident>:<id>[:<id>…]" ("3:1", "3:2:5"). The format is in
// messages Slack already shows, so it never changes; this is its only
// encoder and parser.

// EncodeValue encodes an incident id and the ids inside it.
func EncodeValue(incident int64, ids ...int) string {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(incident, 10))
	for _, id := range ids {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(id))
	}
	return b.String()
}

// ParseValue decodes a value that must hold an incident id and exactly n
// more ids, all non-negative and the incident positive. The error says what
// was wrong, for the log (a value is never a user's text).
func ParseValue(s string, n int) (incident int64, ids []int, err error) {
	parts := strings.Split(s, ":")
	if len(parts) != n+1 {
		return 0, nil, fmt.Errorf("value %q has %d parts, want %d", Clip(s, 40), len(parts), n+1)
	}
	incident, err = strconv.ParseInt(parts[0], 10, 64)
	if err != nil || incident <= 0 {
		return 0, nil, fmt.Errorf("value %q: %q is not an incident id", Clip(s, 40), Clip(parts[0], 20))
	}
	ids = make([]int, n)
	for i, p := range parts[1:] {
		if ids[i], err = strconv.Atoi(p); err != nil || ids[i] < 0 {
			return 0, nil, fmt.Errorf("value %q: part %d is not an id", Clip(s, 40), i+2)
		}
	}
	return incident, ids, nil
}

// alertMark starts the values of an alert's buttons and of the page DMs
// sent for an alert: "a<alert>[:<id>…]" ("a7", "a7:1:2").
const alertMark = "a"

// EncodeAlertValue encodes an alert id and the ids inside it.
func EncodeAlertValue(alert int64, ids ...int) string { return alertMark + EncodeValue(alert, ids...) }

// IsAlertValue reports whether a value names an alert rather than an incident.
func IsAlertValue(s string) bool { return strings.HasPrefix(s, alertMark) }

// ParseAlertValue decodes EncodeAlertValue's values, as ParseValue does.
func ParseAlertValue(s string, n int) (alert int64, ids []int, err error) {
	rest, ok := strings.CutPrefix(s, alertMark)
	if !ok {
		return 0, nil, fmt.Errorf("value %q does not name an alert", Clip(s, 40))
	}
	return ParseValue(rest, n)
}
