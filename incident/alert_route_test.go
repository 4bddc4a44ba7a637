package incident

import (
	"errors"
	"testing"
)

func mustMatchers(t *testing.T, m map[string]string) []Matcher {
	t.Helper()
	ms, err := ParseMatchers(m)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestMatchRoute(t *testing.T) {
	routes := []AlertRoute{
		{Name: "checkout", Match: mustMatchers(t, map[string]string{"team": "platform", "service": "=~checkout|cart"})},
		{Name: "platform", Match: mustMatchers(t, map[string]string{"team": "platform"})},
		{Name: "nolabel", Match: mustMatchers(t, map[string]string{"team": ""})},
		{Name: "rest"},
	}
	tests := []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{"team": "platform", "service": "checkout"}, "checkout"},
		{map[string]string{"team": "platform", "service": "cart"}, "checkout"},
		{map[string]string{"team": "platform", "service": "checkout-eu"}, "platform"}, // the regex is anchored
		{map[string]string{"team": "platform"}, "platform"},
		{map[string]string{"team": "Platform"}, "rest"}, // exact is case-sensitive
		{map[string]string{"service": "checkout"}, "nolabel"},
		{nil, "nolabel"},
		{map[string]string{"team": "data"}, "rest"},
	}
	for _, tt := range tests {
		r, ok := MatchRoute(routes, tt.labels)
		if !ok || r.Name != tt.want {
			t.Errorf("MatchRoute(%v) = %v %v, want %s", tt.labels, r, ok, tt.want)
		}
	}
	if r, ok := MatchRoute(routes[:2], map[string]string{"team": "data"}); ok {
		t.Errorf("no route should match, got %s", r.Name)
	}
	if r, _ := MatchRoute(routes, nil); r != &routes[2] {
		t.Errorf("MatchRoute must point into the slice")
	}
}

func TestParseMatcher(t *testing.T) {
	tests := []struct {
		label, value, str string
		err               bool
	}{
		{"team", "platform", "team=platform", false},
		{" team ", "=~plat.*", "team=~plat.*", false},
		{"team", "=~(", "", true},
		{"", "x", "", true},
		{"env", "~prod", "env=~prod", false}, // only =~ starts a regex
	}
	for _, tt := range tests {
		m, err := ParseMatcher(tt.label, tt.value)
		if tt.err {
			if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("ParseMatcher(%q, %q) error = %v, want an input error", tt.label, tt.value, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseMatcher(%q, %q): %v", tt.label, tt.value, err)
			continue
		}
		if tt.value == "~prod" {
			tt.str = "env=~prod" // an exact value that happens to start with ~
			if m.Regex != nil || m.Value != "~prod" {
				t.Errorf("~prod must be exact, got %+v", m)
			}
			continue
		}
		if m.String() != tt.str {
			t.Errorf("String() = %q, want %q", m.String(), tt.str)
		}
	}
}

func TestRouteSeverity(t *testing.T) {
	plain := AlertRoute{}
	custom := AlertRoute{SeverityFrom: "priority", SeverityMap: map[string]Severity{"Page": Sev1, "critical": Sev2}}
	tests := []struct {
		route  AlertRoute
		labels map[string]string
		want   Severity
	}{
		{plain, map[string]string{"severity": "critical"}, Sev1},
		{plain, map[string]string{"severity": "ERROR"}, Sev2},
		{plain, map[string]string{"severity": " warning "}, Sev3},
		{plain, map[string]string{"severity": "info"}, Sev4},
		{plain, map[string]string{"severity": "sev2"}, Sev2},
		{plain, map[string]string{"severity": "P1"}, Sev1},
		{plain, map[string]string{"severity": "bogus"}, Sev3},
		{plain, nil, Sev3},
		{custom, map[string]string{"priority": "page"}, Sev1},
		{custom, map[string]string{"priority": "critical"}, Sev2}, // the route's map wins
		{custom, map[string]string{"priority": "info"}, Sev4},     // the default map still applies
		{custom, map[string]string{"severity": "critical"}, Sev3}, // another label is not read
	}
	for _, tt := range tests {
		if got := tt.route.Severity(tt.labels); got != tt.want {
			t.Errorf("%+v.Severity(%v) = %s, want %s", tt.route.SeverityMap, tt.labels, got, tt.want)
		}
	}
}

func TestAutoDeclare(t *testing.T) {
	tests := []struct {
		declare, sev Severity
		want         bool
	}{
		{Sev1, Sev1, true},
		{Sev1, Sev2, false},
		{Sev2, Sev1, true},
		{0, Sev1, false},
		{Sev4, 0, false},
	}
	for _, tt := range tests {
		if got := (AlertRoute{Declare: tt.declare}).AutoDeclare(tt.sev); got != tt.want {
			t.Errorf("declare %v, severity %v: %v, want %v", tt.declare, tt.sev, got, tt.want)
		}
	}
}
