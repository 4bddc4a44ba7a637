package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// An alert answered 2xx is committed: the bot SIGKILLed right after the
// answer, before the page went out, and again inside the page DM's post
// (Slack has the DM, the bot never heard back), still pages once when it
// restarts, and posts the alert's message once.
func TestAlertSurvivesKill(t *testing.T) {
	w := newProcessWorkspace(t, slackfake.Options{})
	w.fake.AddUser(slackfake.User{ID: pgCarol, Name: "carol", RealName: "Carol Cruz", DisplayName: "carol"})
	w.fake.AddUser(slackfake.User{ID: pgDave, Name: "dave", RealName: "Dave Dunn", DisplayName: "dave"})
	alerts := w.fake.AddChannel("alerts", false, w.alice, w.fake.BotUserID())
	file := filepath.Join(t.TempDir(), "escalation.yaml")
	if err := os.WriteFile(file, []byte(pgPlatform(0)+alRoute(alerts, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	env := w.env()
	env["INCIDENTBOT_ESCALATION_FILE"] = file
	env["INCIDENTBOT_ALERTS_ADDR"] = addr
	env["AL_PLATFORM_TOKEN"] = alToken

	// Slack refuses to open DMs at first, so nothing of the page can go
	// out before the kill.
	w.fake.FailNext("conversations.open", 1000, slackfake.Fault{Status: http.StatusInternalServerError})
	p := startProcess(t, env)
	waitReady(t, w.fake, p, w.base())
	post := func(body []byte) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/alerts/alertmanager", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+alToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	body := amPayload("HighErrorRate", amFiring("HighErrorRate", "checkout-1", "error", time.Now().Add(-time.Minute)))
	if code, answer := post(body); code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, answer)
	}
	p.kill()

	// The restarted bot pages carol; it is killed inside the DM's post.
	w.fake.ClearFaults()
	var mu sync.Mutex
	var current *botProcess
	killedInPost := false
	w.fake.BeforeReply(func(c slackfake.Call) {
		mu.Lock()
		defer mu.Unlock()
		if killedInPost || c.Method != "chat.postMessage" || c.Status != 200 || !strings.Contains(c.Params.Get("text"), "You are being paged") {
			return
		}
		killedInPost = true
		_ = current.cmd.Process.Signal(syscall.SIGKILL)
		<-current.done
	})
	mu.Lock()
	current = startProcess(t, env)
	mu.Unlock()
	waitUntil(t, w.fake, "the page DM, and the kill inside it", 60*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return killedInPost
	})
	mu.Lock()
	current = startProcess(t, env)
	last := current
	mu.Unlock()
	waitReady(t, w.fake, last, w.base())
	// Drained but for the escalation's timer (the next level in 5 minutes).
	waitUntil(t, w.fake, "the outbox to drain to the escalation timer", 60*time.Second, func() bool {
		return metricAt(w.base(), "incidentbot_jobs_pending") == 1
	})

	pages := 0
	for _, m := range w.fake.Messages(w.fake.DM(pgCarol)) {
		if m.BotID != "" && strings.Contains(m.Text, "You are being paged for ALERT-1") {
			pages++
		}
	}
	if pages != 1 {
		t.Errorf("carol got %d page DMs for ALERT-1, want exactly 1", pages)
	}
	if n := len(alertMessages(w.fake, alerts)); n != 1 {
		t.Errorf("%d alert messages, want exactly 1", n)
	}
	// The retry of the committed request changes nothing.
	if code, answer := post(body); code != http.StatusOK || !strings.Contains(answer, `"result":"updated"`) {
		t.Errorf("retried POST: %d %s, want 200 updated", code, answer)
	}
	last.stop()
}
