package check

import (
	"errors"
	"fmt"
	"strings"

	"github.com/incidentbot/incidentbot/incident"
)

// minAlertToken is the shortest bearer token an alert route accepts: the
// token is all that keeps anyone who can reach the receiver's port from
// posting alerts and paging people.
const minAlertToken = 16

// AlertTokens reads each alert route's bearer token from the environment
// variable its token_env names, and maps each token to the names of the
// routes using it, in file order: the receiver tries those routes' matchers
// in that order. Routes may share a variable, or name two variables holding
// the same token; both end up under that one token.
//
// A variable that is unset, empty (after trimming spaces, as a Secret's
// trailing newline is trimmed) or shorter than minAlertToken is an error
// naming the variable and its routes; every such variable is reported at
// once. No error ever holds a token's value, nor part of one.
func AlertTokens(routes []incident.AlertRoute, getenv func(string) string) (map[string][]string, error) {
	// The variables in the order the file first names them, each with its
	// routes, so a variable shared by routes is reported once.
	var vars []string
	users := map[string][]string{}
	var errs []error
	for _, r := range routes {
		if r.TokenEnv == "" {
			errs = append(errs, fmt.Errorf("alert route %s has no token_env: name the environment variable holding its bearer token, e.g. token_env: PLATFORM_ALERTS_TOKEN", r.Name))
			continue
		}
		if users[r.TokenEnv] == nil {
			vars = append(vars, r.TokenEnv)
		}
		users[r.TokenEnv] = append(users[r.TokenEnv], r.Name)
	}
	const how = `set it to a long random secret, e.g. the output of "openssl rand -hex 32"`
	values := map[string]string{}
	for _, v := range vars {
		token := strings.TrimSpace(getenv(v))
		of := "token_env of alert route " + strings.Join(users[v], ", ")
		if len(users[v]) > 1 {
			of = "token_env of alert routes " + strings.Join(users[v], ", ")
		}
		switch {
		case token == "":
			errs = append(errs, fmt.Errorf("%s (%s) is empty: %s", v, of, how))
		case len(token) < minAlertToken:
			errs = append(errs, fmt.Errorf("%s (%s) is %d characters, fewer than %d: %s", v, of, len(token), minAlertToken, how))
		default:
			values[v] = token
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	tokens := map[string][]string{}
	for _, r := range routes {
		tokens[values[r.TokenEnv]] = append(tokens[values[r.TokenEnv]], r.Name)
	}
	return tokens, nil
}
