package handlers_test

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/incidentbot/incidentbot/bot"
	"github.com/incidentbot/incidentbot/handlers"
	"github.com/incidentbot/incidentbot/handlers/comms"
	"github.com/incidentbot/incidentbot/handlers/incidents"
	oncallmod "github.com/incidentbot/incidentbot/handlers/oncall"
	"github.com/incidentbot/incidentbot/handlers/paging"
	"github.com/incidentbot/incidentbot/handlers/timeline"
	"github.com/incidentbot/incidentbot/incident"
	"github.com/incidentbot/incidentbot/store"
)

// newHandlers wires the core with the modules the bot ships with, plus
// extra ones.
func newHandlers(t *testing.T, extra ...handlers.Module) (*handlers.Handlers, *store.DB, error) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "incidentbot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	modules := append([]handlers.Module{incidents.New(), timeline.New(), comms.New(comms.Config{}), paging.New(paging.Config{}), oncallmod.New(oncallmod.Config{})}, extra...)
	h, err := handlers.New(handlers.Config{}, handlers.Deps{DB: db, API: slack.New("xoxb-test", slack.OptionAPIURL("http://127.0.0.1:1/")),
		Now: time.Now, Log: zerolog.New(io.Discard)}, modules...)
	return h, db, err
}

// TestRegistryEveryCommandHasUsageAndHelp checks each registered command
// says how it is typed and what it does, and that /incident help lists
// every one of them with its usage.
func TestRegistryEveryCommandHasUsageAndHelp(t *testing.T) {
	h, db, err := newHandlers(t)
	if err != nil {
		t.Fatal(err)
	}
	cmds := h.Registry().Commands()
	if len(cmds) < 22 {
		t.Errorf("%d commands registered, want at least the 22 the bot had", len(cmds))
	}
	var ack any
	if err := db.Update(func(tx *store.Tx) error {
		ack, err = h.Handle(tx, &bot.Envelope{Type: "slash_commands",
			Data: slack.SlashCommand{Command: "/incident", Text: "help", UserID: "U0ALICE01", ChannelID: "C0GENERAL"}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	help, _ := ack.(map[string]any)["text"].(string)
	for _, c := range cmds {
		if c.Usage == "" || c.Help == "" || !strings.HasPrefix(c.Usage, c.Name) {
			t.Errorf("command %q: usage %q, help %q", c.Name, c.Usage, c.Help)
		}
		if !strings.Contains(help, "`/incident "+c.Usage+"`") {
			t.Errorf("/incident help does not show `/incident %s`:\n%s", c.Usage, help)
		}
	}
	for _, name := range []string{"page", "oncall", "ack", "update", "followup", "impact", "customers", "postmortem", "note", "timeline"} {
		if h.Registry().Owner("command "+name) == "" {
			t.Errorf("command %s is not registered", name)
		}
	}
}

// TestRegistryEveryJobKindHasOwnerAndDescription checks each job kind is
// owned by a module and completes "I could not …".
func TestRegistryEveryJobKindHasOwnerAndDescription(t *testing.T) {
	h, _, err := newHandlers(t)
	if err != nil {
		t.Fatal(err)
	}
	kinds := h.Registry().JobKinds()
	// The 23 the golden test pins, and the on-call module's oncall_handoff,
	// oncall_usergroup and oncall_feed (its e2e tests drive them).
	if len(kinds) != 27 {
		t.Errorf("%d job kinds, want the 24 the golden test pins and 3 of on-call", len(kinds))
	}
	for _, k := range kinds {
		if k.Owner == "" || k.Describe == "" || strings.HasSuffix(k.Describe, ".") {
			t.Errorf("job kind %s: owner %q, description %q", k.Kind, k.Owner, k.Describe)
		}
		if got := h.Describe(store.Job{Kind: k.Kind}); got != k.Describe {
			t.Errorf("Describe(%s) = %q, want %q", k.Kind, got, k.Describe)
		}
	}
}

// clash is a module that claims what others already have.
type clash struct {
	name string
	fn   func(reg *handlers.Registry)
}

func (c clash) Name() string                                          { return c.name }
func (c clash) Register(_ *handlers.Handlers, reg *handlers.Registry) { c.fn(reg) }

// TestRegistryRefusesDoubleClaims checks New fails, naming both modules,
// when a command, job kind, action prefix, form or reaction is claimed twice.
func TestRegistryRefusesDoubleClaims(t *testing.T) {
	run := func(context.Context, store.Job) (func(*store.Tx) error, error) { return nil, nil }
	act := func(*handlers.Request, slack.InteractionCallback, *slack.BlockAction) error { return nil }
	tests := []struct {
		name string
		fn   func(reg *handlers.Registry)
		want string
	}{
		{"command", func(reg *handlers.Registry) {
			reg.Command(handlers.Command{Name: "page", Usage: "page x", Help: "again", Run: func(*handlers.Request, string) (string, error) { return "", nil }})
		}, "command page is already registered by paging"},
		{"job kind", func(reg *handlers.Registry) {
			reg.Job(handlers.Job{Kind: "post", Describe: "post again", Run: run})
		}, "job kind post is already registered by core"},
		{"action prefix inside another", func(reg *handlers.Registry) { reg.Action("page_ack", handlers.Paged, act) }, `action prefix "page_ack" overlaps "page_"`},
		{"action prefix around another", func(reg *handlers.Registry) { reg.Action("upd", handlers.Responders, act) }, `action prefix "upd" overlaps "update_"`},
		{"form", func(reg *handlers.Registry) {
			reg.View("declare", handlers.Anyone, func(*handlers.Request, slack.InteractionCallback) (any, error) { return nil, nil })
		}, "view declare is already registered by incidents"},
		{"reaction", func(reg *handlers.Registry) {
			reg.Reaction("pushpin", handlers.Members, func(*handlers.Request, *incident.Incident, handlers.Reaction) error { return nil })
		}, "reaction :pushpin: is already registered by timeline"},
		{"action without access", func(reg *handlers.Registry) { reg.Action("mine_", 0, act) }, `action mine_ needs an access level`},
		{"reaction open to anyone", func(reg *handlers.Registry) {
			reg.Reaction("eyes", handlers.Anyone, func(*handlers.Request, *incident.Incident, handlers.Reaction) error { return nil })
		}, `reaction :eyes: needs an access level of [members responders], not anyone`},
		{"command without usage", func(reg *handlers.Registry) {
			reg.Command(handlers.Command{Name: "x", Help: "h", Run: func(*handlers.Request, string) (string, error) { return "", nil }})
		}, `command "x" needs a name, usage, help and a func`},
		{"job without description", func(reg *handlers.Registry) { reg.Job(handlers.Job{Kind: "x", Run: run}) },
			`job kind "x" needs a kind, a description and a func`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := newHandlers(t, clash{"intruder", tt.fn})
			if err == nil || !strings.Contains(err.Error(), "intruder: "+tt.want) {
				t.Errorf("New = %v, want an error with %q", err, "intruder: "+tt.want)
			}
		})
	}
}
