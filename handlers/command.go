package handlers

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/incidentbot/incidentbot/incident"
)

// Parsed is the parsed text of a slash command (or a bot mention):
// a subcommand name and the rest of the text, untouched.
type Parsed struct {
	Name string
	Args string
}

// aliases map words people reach for under pressure to the real subcommand.
var aliases = map[string]string{
	"new": "declare", "open": "declare", "start": "declare",
	"close": "resolve", "done": "resolve",
	"?": "help",
}

// ParseCommand splits "/incident <sub> <args…>". Empty text is "help".
func ParseCommand(text string) Parsed {
	text = strings.TrimSpace(text)
	if text == "" {
		return Parsed{Name: "help"}
	}
	name, args := NextWord(text)
	name = strings.ToLower(name)
	if real, ok := aliases[name]; ok {
		name = real
	}
	return Parsed{Name: name, Args: strings.TrimSpace(args)}
}

// NextWord splits s at its first run of white space of any kind (a pasted
// title often comes with tabs or new lines) and returns the first word and
// the rest, trimmed.
func NextWord(s string) (word, rest string) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

// DeclareArgs is the parsed text after "declare".
type DeclareArgs struct {
	Severity incident.Severity
	Private  bool
	Title    string
}

// ParseDeclare reads "[--private] [sevN] <title>" (options in any order
// before the title).
func ParseDeclare(args string) (DeclareArgs, error) {
	var d DeclareArgs
	rest := strings.TrimSpace(args)
	for rest != "" {
		word, tail := NextWord(rest)
		lw := strings.ToLower(word)
		switch {
		case lw == "--private" || lw == "-p":
			d.Private = true
		case strings.HasPrefix(lw, "--"):
			return d, incident.Invalid(fmt.Sprintf("%q is not an option of declare.", word),
				"The only option is --private, e.g. /incident declare --private sev2 Payroll export leaking data")
		case incident.LooksLikeSeverity(lw):
			if d.Severity != 0 {
				return d, incident.Invalid("Two severities were given.", "Give one, e.g. /incident declare sev2 Checkout is failing")
			}
			sev, err := incident.ParseSeverity(lw)
			if err != nil {
				return d, err
			}
			d.Severity = sev
		default:
			d.Title = rest
			return d, nil
		}
		rest = strings.TrimSpace(tail)
	}
	return d, nil
}
