package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// clickPost clicks Post on the newest customer-update preview.
func clickPost(user string) func(*demo, string) (string, error) {
	return func(d *demo, last string) (string, error) {
		ch, err := d.incidentChannel()
		if err != nil {
			return "", err
		}
		var ts string
		if err := d.waitFor(func() bool {
			msgs := d.fake.Messages(ch)
			for i := len(msgs) - 1; i >= 0; i-- {
				if strings.Contains(string(msgs[i].Blocks), `"update_post"`) {
					ts = msgs[i].TS
					return true
				}
			}
			return false
		}); err != nil {
			return "", fmt.Errorf("no update preview to post")
		}
		d.out.note(d.clock.Now(), d.out.where(ch), user, "clicked Post on the update preview")
		d.fake.ClickButton(d.users[user], ch, ts, "update_post")
		return last, nil
	}
}

// acknowledgePage clicks Acknowledge on user's newest page DM.
func acknowledgePage(user string) func(*demo, string) (string, error) {
	return func(d *demo, last string) (string, error) {
		dm := d.fake.DM(d.users[user])
		var ts string
		if err := d.waitFor(func() bool {
			msgs := d.fake.Messages(dm)
			for i := len(msgs) - 1; i >= 0; i-- {
				if strings.Contains(string(msgs[i].Blocks), `"page_ack"`) {
					ts = msgs[i].TS
					return true
				}
			}
			return false
		}); err != nil {
			return "", fmt.Errorf("no page DM for %s to acknowledge", user)
		}
		d.out.note(d.clock.Now(), d.out.where(dm), user, "clicked Acknowledge on the page")
		d.fake.ClickButton(d.users[user], dm, ts, "page_ack")
		return last, nil
	}
}

// react adds a reaction as user to the previous step's message.
func react(user, emoji string) func(*demo, string) (string, error) {
	return func(d *demo, ts string) (string, error) {
		ch, err := d.incidentChannel()
		if err != nil {
			return "", err
		}
		d.fake.AddReaction(d.users[user], ch, ts, emoji)
		return ts, nil
	}
}

// demoUsers are the people of the demo workspace.
var demoUsers = []slackfake.User{
	{Name: "mara", RealName: "Mara Okafor", DisplayName: "mara"},
	{Name: "jonas", RealName: "Jonas Weber", DisplayName: "jonas"},
	{Name: "priya", RealName: "Priya Raman", DisplayName: "priya"},
}

// demoStep is one moment of the replayed incident.
type demoStep struct {
	At   time.Time
	What string
	// Do acts and returns the ts of the message it posted (if any), so the
	// next step can react to it.
	Do func(d *demo, lastTS string) (string, error)
}

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// say posts a message as user in a channel ("" is the incident channel).
func say(user, channel, text string) func(*demo, string) (string, error) {
	return func(d *demo, _ string) (string, error) {
		ch, err := d.channel(channel)
		if err != nil {
			return "", err
		}
		return d.fake.PostMessage(d.users[user], ch, d.mentions(text)), nil
	}
}

// mentions turns "@name" into Slack's <@ID> form, as the Slack client does.
func (d *demo) mentions(text string) string {
	for name, id := range d.users {
		text = strings.ReplaceAll(text, "@"+name, "<@"+id+">")
	}
	return text
}

// pin reacts with :pushpin: as user to the previous step's message.
func pin(user string) func(*demo, string) (string, error) {
	return func(d *demo, ts string) (string, error) {
		ch, err := d.incidentChannel()
		if err != nil {
			return "", err
		}
		d.fake.AddReaction(d.users[user], ch, ts, "pushpin")
		return ts, nil
	}
}

// join makes user join the incident channel, as people do from the link in
// the announcement.
func join(user string) func(*demo, string) (string, error) {
	return func(d *demo, last string) (string, error) {
		ch, err := d.incidentChannel()
		if err != nil {
			return "", err
		}
		d.fake.JoinChannel(d.users[user], ch)
		d.out.note(d.clock.Now(), d.out.where(ch), user, "joined from the announcement")
		return last, nil
	}
}

// slash runs /incident as user in a channel ("" is the incident channel).
func slash(user, channel, text string) func(*demo, string) (string, error) {
	return func(d *demo, last string) (string, error) {
		ch, err := d.channel(channel)
		if err != nil {
			return "", err
		}
		d.out.note(d.clock.Now(), d.out.where(ch), user, "/incident "+text)
		// Slack sends "@name" in a command as <@ID|name> (should_escape).
		d.fake.SlashCommand(d.users[user], ch, d.mentions(text))
		return last, nil
	}
}

func (d *demo) channel(name string) (string, error) {
	if name == "" {
		return d.incidentChannel()
	}
	if id, ok := d.chans[name]; ok {
		return id, nil
	}
	return "", fmt.Errorf("no channel %q in the demo", name)
}

// demoScript follows Stellate's public report "Issues with configuration
// updates propagating" (../shared/reference/stellate-config-propagation-kv-outage.txt).
var demoScript = []demoStep{
	{utc("2023-08-17 10:46"), "customer report", say("priya", "support",
		"A customer reports their Stellate endpoint failing in FRA and a few other edge locations, right after they pushed an originUrl change.")},
	{utc("2023-08-17 10:48"), "declare", slash("mara", "support", "declare sev2 Configuration updates not propagating to edge POPs")},
	{utc("2023-08-17 10:48"), "page", slash("mara", "", "page platform Config pushes are not reaching FRA and other POPs")},
	{utc("2023-08-17 10:49"), "acknowledge", acknowledgePage("jonas")},
	{utc("2023-08-17 10:49"), "join", join("priya")},
	{utc("2023-08-17 10:49"), "role", slash("mara", "", "comms @priya")},
	{utc("2023-08-17 10:49"), "detected", slash("mara", "", "detected 10:46")},
	{utc("2023-08-17 10:49"), "impact", slash("mara", "", "impact GraphQL Edge Caching, GraphQL Rate Limiting")},
	{utc("2023-08-17 10:50"), "finding", say("mara", "", "Found it: a stale KV value in the FRA POP and several others. Config pushes are not reaching the edge.")},
	{utc("2023-08-17 10:50"), "pin", pin("jonas")},
	{utc("2023-08-17 10:55"), "status page", say("priya", "", "Status page incident opened: degraded KV in FRA and several other POPs.")},
	{utc("2023-08-17 10:55"), "pin", pin("priya")},
	{utc("2023-08-17 11:55"), "status post", slash("priya", "", "update investigating If you didn't make configuration changes recently, your services are not impacted by this incident.")},
	{utc("2023-08-17 11:55"), "post", clickPost("priya")},
	{utc("2023-08-17 13:08"), "more impact", say("jonas", "", "Rate Limiting and the Developer Portals are affected as well.")},
	{utc("2023-08-17 13:08"), "pin", pin("jonas")},
	{utc("2023-08-17 13:30"), "vendor", say("jonas", "", "Reported to Fastly with a reproduction.")},
	{utc("2023-08-17 13:30"), "pin", pin("mara")},
	{utc("2023-08-17 16:03"), "status post", slash("priya", "", "update identified Our infrastructure partner has identified the issue and is working on fixing it.")},
	{utc("2023-08-17 16:03"), "post", clickPost("priya")},
	{utc("2023-08-18 06:23"), "escalation", say("priya", "", "A large e-commerce customer reports their site is down: a KV key disappeared in FRA.")},
	{utc("2023-08-18 06:23"), "pin", pin("priya")},
	{utc("2023-08-18 07:16"), "mitigation", say("mara", "", "Deployed a partial fix: the new infrastructure is disabled. Edge caching is back for services without recent config pushes.")},
	{utc("2023-08-18 07:16"), "pin", pin("mara")},
	{utc("2023-08-18 07:17"), "monitoring", slash("mara", "", "status monitoring")},
	{utc("2023-08-18 07:20"), "follow-up", say("mara", "", "Short-term: alert when config pushes stop reaching POPs @mara")},
	{utc("2023-08-18 07:20"), "memo", react("jonas", "memo")},
	{utc("2023-08-18 07:21"), "follow-up", slash("jonas", "", "followup mid-term: only re-enable the new infrastructure once the vendor's fix is verified @jonas")},
	{utc("2023-08-18 07:22"), "follow-up", slash("priya", "", "followup future: check vendor incidents against our own monitoring during incidents @priya")},
	{utc("2023-08-18 07:40"), "note", say("jonas", "", "TL: Large customer confirms their site is back up.")},
	{utc("2023-08-18 10:04"), "vendor fix", say("jonas", "", "Fastly marked their incident resolved: surrogate keys in their C@E caching layer.")},
	{utc("2023-08-18 10:04"), "pin", pin("jonas")},
	{utc("2023-08-18 10:33"), "resolve", slash("mara", "",
		"resolve All services are back on the old infrastructure; Fastly fixed surrogate-key handling in their C@E caching layer.")},
	{utc("2023-08-18 10:34"), "status post", slash("priya", "", "update resolved We have temporarily disabled switching over to the new infrastructure and are working with Fastly to understand what happened.")},
	{utc("2023-08-18 10:34"), "post", clickPost("priya")},
	{utc("2023-08-18 10:36"), "postmortem", slash("mara", "", "postmortem")},
	// Three days later (demo_alerts.go): the new alert fires; Mara is on call that week.
	{utc("2023-08-21 14:02"), "alert", alertmanager("firing")},
	{utc("2023-08-21 14:04"), "acknowledge", acknowledgePage("mara")},
	{utc("2023-08-21 14:19"), "alert resolved", alertmanager("resolved")},
}
