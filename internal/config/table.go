package config

import (
	"io"
	"strings"
	"text/tabwriter"
	"text/template"

	"github.com/kelseyhightower/envconfig"
)

// configTable is the template of `incidentbot config`. envconfig hands it
// each variable's Key, Alt and struct Tags.
const configTable = `VARIABLE	DEFAULT	REQUIRED	DESCRIPTION
{{range .}}{{or (.Tags.Get "show") .Key}}	{{or (.Tags.Get "default") "-"}}	{{or (.Tags.Get "req") "no"}}	{{.Tags.Get "desc"}}
{{end}}`

// PrintTable writes every variable with its default, whether it is
// required, and what it means.
func PrintTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	tmpl := template.Must(template.New("config").Parse(configTable))
	if err := envconfig.Usaget(EnvPrefix, &Config{}, tw, tmpl); err != nil {
		return err
	}
	return tw.Flush()
}

// tokenNames is a template listing, for each variable `run` requires (the
// tokens), the name envconfig reads first and its unprefixed alternative.
const tokenNames = `{{range .}}{{if eq (.Tags.Get "req") "run"}}{{.Key}} {{.Alt}} {{end}}{{end}}`

// TokenVariables returns every name a Slack token is read under, as
// envconfig names them: INCIDENTBOT_SLACK_APP_TOKEN, SLACK_APP_TOKEN, and
// the same for the bot token.
func TokenVariables() []string {
	var b strings.Builder
	tmpl := template.Must(template.New("tokens").Parse(tokenNames))
	if err := envconfig.Usaget(EnvPrefix, &Config{}, &b, tmpl); err != nil {
		panic(err) // Config is a struct: a build defect
	}
	return strings.Fields(b.String())
}

// TokensSet reports whether any token variable is set, even to nothing. An
// empty token is an operator's mistake (say, an empty key in the Secret), so
// `incidentbot check` then checks the tokens, which refuses it, rather than
// skipping them as if none had been given.
func TokensSet(lookup Lookup) bool {
	for _, name := range TokenVariables() {
		if _, ok := lookup(name); ok {
			return true
		}
	}
	return false
}
