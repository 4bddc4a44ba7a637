package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/incidentbot/incidentbot/internal/config/clustertest"
	"github.com/incidentbot/incidentbot/internal/slackfake"
)

// clusterRig is three `incidentbot run` processes in cluster mode against
// one fake Slack, each with its own Socket Mode connection, database, HTTP
// port and Raft port, with mutual TLS between them.
type clusterRig struct {
	t     testing.TB
	w     *processWorkspace
	envs  []map[string]string
	bases []string
	procs []*botProcess
}

func newClusterRig(t testing.TB, fopts slackfake.Options) *clusterRig {
	t.Helper()
	w := newProcessWorkspace(t, fopts)
	ca := clustertest.NewCA(t, "incidentbot-cluster-ca")
	r := &clusterRig{t: t, w: w, procs: make([]*botProcess, 3)}
	binds := []string{freeAddr(t), freeAddr(t), freeAddr(t)}
	var peers []string
	for i, b := range binds {
		peers = append(peers, fmt.Sprintf("incidentbot-%d=%s", i, b))
	}
	for i := range 3 {
		dir := t.TempDir()
		cert, key, caFile := ca.Files(t, dir, clustertest.Options{CN: fmt.Sprintf("incidentbot-%d.incidentbot-peers", i)})
		http := freeAddr(t)
		env := processEnv(w.fake, filepath.Join(dir, "incidentbot.db"), w.announce, http)
		// Info, not debug: three bots logging every envelope through pipes
		// would take the CPU their heartbeats need.
		env["INCIDENTBOT_LOG_LEVEL"] = "info"
		env["INCIDENTBOT_CLUSTER_NODE_ID"] = fmt.Sprintf("incidentbot-%d", i)
		env["INCIDENTBOT_CLUSTER_BIND"] = binds[i]
		env["INCIDENTBOT_CLUSTER_PEERS"] = strings.Join(peers, ",")
		env["INCIDENTBOT_CLUSTER_TLS_CERT"], env["INCIDENTBOT_CLUSTER_TLS_KEY"], env["INCIDENTBOT_CLUSTER_TLS_CA"] = cert, key, caFile
		r.envs = append(r.envs, env)
		r.bases = append(r.bases, "http://"+http)
	}
	return r
}

func (r *clusterRig) start(i int) {
	r.t.Helper()
	r.procs[i] = startProcess(r.t, r.envs[i])
}

// status is node i's /cluster/status, ok false if it does not answer.
func (r *clusterRig) status(i int) (clusterStatus, bool) {
	var st clusterStatus
	resp, err := http.Get(r.bases[i] + "/cluster/status")
	if err != nil {
		return st, false
	}
	defer resp.Body.Close()
	return st, resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&st) == nil
}

// caughtUp waits until node i has applied about all the leader has
// committed (within the two entries a no-op and a configuration may add).
func (r *clusterRig) caughtUp(what string, i, leader int) {
	r.t.Helper()
	waitUntil(r.t, r.w.fake, what, 60*time.Second, func() bool {
		a, ok1 := r.status(i)
		b, ok2 := r.status(leader)
		return ok1 && ok2 && a.StoreApplied > 0 && a.StoreApplied+2 >= b.CommitIndex
	})
}

// leader waits until the live nodes agree on a leader and all are ready,
// and returns its index.
func (r *clusterRig) leader(live ...int) int {
	r.t.Helper()
	leader := -1
	var seen []string
	defer func() {
		if r.t.Failed() {
			r.t.Logf("last statuses: %s", strings.Join(seen, "; "))
		}
	}()
	waitUntil(r.t, r.w.fake, "the cluster to agree on a leader, every live node ready", 60*time.Second, func() bool {
		leader = -1
		id := ""
		seen = seen[:0]
		for _, i := range live {
			st, ok := r.status(i)
			seen = append(seen, fmt.Sprintf("node %d: answered %v, %s, leader %q, ready %v (%s)", i, ok, st.State, st.LeaderID, st.Ready, st.Reason))
			if !ok || !st.Ready || st.LeaderID == "" || (id != "" && st.LeaderID != id) {
				return false
			}
			id = st.LeaderID
			if st.Leader {
				leader = i
			}
		}
		return leader >= 0
	})
	return leader
}

// TestClusterFailover runs three nodes, declares an incident, kills -9 the
// leader in the middle of a burst of pins, and checks that the others elect
// a new leader and carry on: every pin whose reaction any node acked is on
// the timeline exactly once, each of the bot's posts exists once, and the
// killed node catches up when it returns. Then two nodes stop: the last one
// acks no state change, says why on /readyz and tells a command to retry;
// when they return, the cluster recovers.
func TestClusterFailover(t *testing.T) {
	r := newClusterRig(t, slackfake.Options{RedeliverAfter: 2 * time.Second})
	fake, alice := r.w.fake, r.w.alice
	for i := range 3 {
		r.start(i)
	}
	all := []int{0, 1, 2}
	lead := r.leader(all...)
	t.Logf("leader: incidentbot-%d", lead)
	ch := r.w.declare(t, "declare sev2 Checkout is failing")

	// Messages first, then a burst of pins; the leader dies a third in.
	const pins = 60
	var ts []string
	for i := range pins {
		ts = append(ts, fake.PostMessage(alice, ch.ID, fmt.Sprintf("clue %03d", i)))
	}
	killedAt := time.Now()
	for i, m := range ts {
		if i == pins/3 {
			r.procs[lead].kill()
			killedAt = time.Now()
		}
		fake.AddReaction(alice, ch.ID, m, "pushpin")
	}
	live := []int{}
	for _, i := range all {
		if i != lead {
			live = append(live, i)
		}
	}
	newLead := r.leader(live...)
	t.Logf("new leader: incidentbot-%d, %s after the kill", newLead, time.Since(killedAt).Round(time.Millisecond))
	// Every pin ends up confirmed (Slack redelivers the events nobody acked).
	waitUntil(t, fake, "every pin confirmed", 90*time.Second, func() bool {
		for _, m := range ts {
			if !botReacted(fake, ch.ID, m, "white_check_mark") {
				return false
			}
		}
		return true
	})
	r.start(lead) // back, on its own file: it catches up from the log
	r.leader(all...)
	waitUntil(t, fake, "the returning node to catch up", 60*time.Second, func() bool {
		a, ok1 := r.status(lead)
		b, ok2 := r.status(newLead)
		return ok1 && ok2 && a.StoreApplied >= b.CommitIndex-1 && a.StoreApplied > 0
	})

	// The postmortem draft holds every pin exactly once.
	ack := fake.SlashCommand(alice, ch.ID, "resolve Rolled back")
	waitUntil(t, fake, "the resolve ack", 30*time.Second, func() bool { _, ok := fake.Ack(ack); return ok })
	var draft string
	waitUntil(t, fake, "the postmortem upload", 60*time.Second, func() bool {
		for _, f := range fake.Files() {
			if strings.HasSuffix(f.Name, "postmortem.md") {
				draft = string(f.Content)
				return true
			}
		}
		return false
	})
	for i := range pins {
		if n := strings.Count(draft, fmt.Sprintf("clue %03d", i)); n != 1 {
			t.Errorf("the draft holds clue %03d %d times, want 1", i, n)
		}
	}
	if n := len(botMessages(fake, r.w.announce, "INC-1 declared")); n != 1 {
		t.Errorf("%d announcements of INC-1, want exactly 1", n)
	}

	// A minority acks no state change, and says so.
	final := r.leader(all...)
	var others []int
	for _, i := range all {
		if i != final {
			others = append(others, i)
		}
	}
	r.procs[others[0]].stop()
	r.procs[others[1]].stop()
	waitUntil(t, fake, "the lone node to report no leader", 30*time.Second, func() bool {
		code, body := readyz(r.bases[final])
		return code == http.StatusServiceUnavailable && strings.Contains(body, "no cluster leader")
	})
	// Commands typed one after another, more than a follower forwards at
	// once: each is answered, none runs into Slack's 3 s timeout.
	var cmds []string
	for range 6 {
		cmds = append(cmds, fake.SlashCommand(alice, r.w.general, "declare sev3 Search is slow"))
		time.Sleep(100 * time.Millisecond)
	}
	for _, cmd := range cmds {
		waitUntil(t, fake, "the command's answer", 30*time.Second, func() bool {
			a, ok := fake.Ack(cmd)
			return ok && strings.Contains(string(a.Payload), "switching leaders")
		})
	}
	time.Sleep(time.Second) // Slack's timeout notice would come 3 s after the last command
	for _, m := range fake.Ephemerals(alice) {
		if strings.Contains(m.Text, "operation_timeout") {
			t.Errorf("a command in the minority was not answered in time: %q", m.Text)
		}
	}
	r.start(others[0])
	r.start(others[1])
	r.leader(all...)
	ch2 := fake.SlashCommand(alice, r.w.general, "declare sev3 Search is slow")
	waitUntil(t, fake, "a declare after recovery", 60*time.Second, func() bool {
		_, ok := findIncidentChannel(fake, 2)
		_, acked := fake.Ack(ch2)
		return ok && acked
	})
	for _, p := range r.procs {
		p.stop()
	}
}

// TestClusterPagingFailover kills -9 the leader while a page's level
// timeout is due: the new leader fires the escalation once, so the first
// level's page DM exists once and the second level is paged once. Then a
// follower loses its whole disk and comes back empty: it catches up from a
// snapshot (the log behind it is compacted every 16 entries here).
func TestClusterPagingFailover(t *testing.T) {
	r := newClusterRig(t, slackfake.Options{RedeliverAfter: 2 * time.Second})
	fake, alice := r.w.fake, r.w.alice
	for _, u := range []slackfake.User{{ID: pgCarol, Name: "carol", RealName: "Carol Cruz", DisplayName: "carol"},
		{ID: pgDave, Name: "dave", RealName: "Dave Dunn", DisplayName: "dave"}} {
		fake.AddUser(u)
	}
	policy := `policies:
  - name: platform
    levels:
      - targets: [` + pgCarol + `]
        timeout: 1m
      - targets: [` + pgDave + `]
        timeout: 10m
`
	file := filepath.Join(t.TempDir(), "escalation.yaml")
	if err := os.WriteFile(file, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := range r.envs {
		r.envs[i]["INCIDENTBOT_ESCALATION_FILE"] = file
		r.envs[i]["INCIDENTBOT_CLUSTER_SNAPSHOT_EVERY"] = "16"
	}
	for i := range 3 {
		r.start(i)
	}
	all := []int{0, 1, 2}
	lead := r.leader(all...)
	if v := metricAt(r.bases[lead], `incidentbot_cluster_state{state="leader"}`); v != 1 {
		t.Errorf("the leader's incidentbot_cluster_state{state=\"leader\"} = %v, want 1", v)
	}
	ch := r.w.declare(t, "declare sev2 Checkout is failing")
	paged := time.Now()
	page := fake.SlashCommand(alice, ch.ID, "page platform Checkout is down")
	waitUntil(t, fake, "the page ack", 30*time.Second, func() bool { _, ok := fake.Ack(page); return ok })
	pages := func(user string) int {
		n := 0
		for _, m := range fake.Messages(fake.DM(user)) {
			if m.BotID != "" && strings.Contains(m.Text, "You are being paged for INC-1") {
				n++
			}
		}
		return n
	}
	waitUntil(t, fake, "carol's page", 30*time.Second, func() bool { return pages(pgCarol) == 1 })

	// Kill the leader just before the level times out.
	time.Sleep(time.Until(paged.Add(57 * time.Second)))
	lead = r.leader(all...)
	r.procs[lead].kill()
	var live []int
	for _, i := range all {
		if i != lead {
			live = append(live, i)
		}
	}
	r.leader(live...)
	waitUntil(t, fake, "dave's page (level 2)", 60*time.Second, func() bool { return pages(pgDave) >= 1 })
	r.start(lead)
	r.leader(all...)

	// A follower loses its disk and returns empty.
	var follower int
	for _, i := range all {
		if st, ok := r.status(i); ok && !st.Leader {
			follower = i
		}
	}
	r.procs[follower].kill()
	dbPath := r.envs[follower]["INCIDENTBOT_DB"]
	for _, p := range []string{dbPath, dbPath + ".raft"} {
		if err := os.RemoveAll(p); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 40 { // one entry each: enough for two snapshots
		id := fake.SlashCommand(alice, ch.ID, fmt.Sprintf("note clue %d", i))
		waitUntil(t, fake, "a note's ack", 30*time.Second, func() bool { _, ok := fake.Ack(id); return ok })
	}
	var up []int
	for _, i := range all {
		if i != follower {
			up = append(up, i)
		}
	}
	leadNow := r.leader(up...)
	waitUntil(t, fake, "the leader to snapshot and compact its log", 30*time.Second, func() bool {
		st, ok := r.status(leadNow)
		return ok && st.LastSnapshotIndex > 40
	})
	r.start(follower)
	leadNow = r.leader(all...)
	r.caughtUp("the wiped node to catch up", follower, leadNow)
	if st, _ := r.status(follower); st.LastSnapshotIndex == 0 {
		t.Errorf("the wiped node caught up without a snapshot (status %+v)", st)
	}
	time.Sleep(2 * time.Second) // anything left to fire would fire now
	if n := pages(pgCarol); n != 1 {
		t.Errorf("carol got %d page DMs, want exactly 1", n)
	}
	if n := pages(pgDave); n != 1 {
		t.Errorf("dave got %d page DMs (level 2), want exactly 1", n)
	}
	for _, p := range r.procs {
		p.stop()
	}
}

// TestClusterBootstrapFromSingleNode is the upgrade path: a single-node
// database with an incident becomes a fresh cluster's state with
// `incidentbot cluster bootstrap --from FILE` on the leader, and every node
// then holds the incident.
func TestClusterBootstrapFromSingleNode(t *testing.T) {
	r := newClusterRig(t, slackfake.Options{})
	// The single node first, on its own file and port.
	single := filepath.Join(t.TempDir(), "single.db")
	senv := processEnv(r.w.fake, single, r.w.announce, freeAddr(t))
	p := startProcess(t, senv)
	waitReady(t, r.w.fake, p, "http://"+senv["INCIDENTBOT_HTTP_ADDR"])
	r.w.declare(t, "declare sev2 Checkout is failing")
	p.stop()

	for i := range 3 {
		r.start(i)
	}
	lead := r.leader(0, 1, 2)
	// From a follower it is refused with where to run it.
	follower := (lead + 1) % 3
	code, _, errOut := command(t, r.envs[follower], "cluster", "bootstrap", "--from", single)
	if code == 0 || !strings.Contains(errOut, "leader") {
		t.Errorf("bootstrap on a follower = %d %q, want a refusal naming the leader", code, errOut)
	}
	code, out, errOut := command(t, r.envs[lead], "cluster", "bootstrap", "--from", single)
	if code != 0 {
		t.Fatalf("incidentbot cluster bootstrap = %d: %s%s", code, out, errOut)
	}
	// Every node's database now holds INC-1 (read with the backup each
	// node serves).
	for i := range 3 {
		waitUntil(t, r.w.fake, "INC-1 on every node", 60*time.Second, func() bool {
			code, out, _ := command(t, r.envs[i], "export", "INC-1")
			return code == 0 && strings.Contains(out, "Checkout is failing")
		})
	}
	code, out, _ = command(t, r.envs[lead], "cluster", "status")
	if code != 0 || !strings.Contains(out, "leader") || !strings.Contains(out, "incidentbot-") {
		t.Errorf("incidentbot cluster status = %d:\n%s", code, out)
	}
	// A second bootstrap would replace incidents: refused without --force.
	if code, _, errOut := command(t, r.envs[lead], "cluster", "bootstrap", "--from", single); code == 0 || !strings.Contains(errOut, "already holds") {
		t.Errorf("a second bootstrap = %d %q, want a refusal", code, errOut)
	}
	for _, p := range r.procs {
		p.stop()
	}
}

// TestClusterAlertsOnAnyNode posts an alert to a follower's receiver (the
// Service spreads requests over the pods): the follower hands it to the
// leader, answers 200 once it is committed, and the page goes out once;
// the repeat posted to the leader is merged.
func TestClusterAlertsOnAnyNode(t *testing.T) {
	r := newClusterRig(t, slackfake.Options{})
	fake := r.w.fake
	fake.AddUser(slackfake.User{ID: pgCarol, Name: "carol", RealName: "Carol Cruz", DisplayName: "carol"})
	fake.AddUser(slackfake.User{ID: pgDave, Name: "dave", RealName: "Dave Dunn", DisplayName: "dave"})
	alertsCh := fake.AddChannel("alerts", false, r.w.alice, fake.BotUserID())
	file := filepath.Join(t.TempDir(), "escalation.yaml")
	if err := os.WriteFile(file, []byte(pgPlatform(0)+alRoute(alertsCh, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for i := range r.envs {
		addrs = append(addrs, freeAddr(t))
		r.envs[i]["INCIDENTBOT_ESCALATION_FILE"] = file
		r.envs[i]["INCIDENTBOT_ALERTS_ADDR"] = addrs[i]
		r.envs[i]["AL_PLATFORM_TOKEN"] = alToken
		r.start(i)
	}
	lead := r.leader(0, 1, 2)
	follower := (lead + 1) % 3
	post := func(addr string, body []byte) (int, string) {
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
	if code, answer := post(addrs[follower], body); code != http.StatusOK || !strings.Contains(answer, `"result":"new"`) {
		t.Fatalf("POST to a follower: %d %s, want 200 new", code, answer)
	}
	if code, answer := post(addrs[lead], body); code != http.StatusOK || !strings.Contains(answer, `"result":"updated"`) {
		t.Fatalf("the repeat to the leader: %d %s, want 200 updated", code, answer)
	}
	if code, answer := post(addrs[follower], []byte("{")); code != http.StatusBadRequest {
		t.Errorf("bad JSON through a follower: %d %s, want 400", code, answer)
	}
	pages := func() int {
		n := 0
		for _, m := range fake.Messages(fake.DM(pgCarol)) {
			if m.BotID != "" && strings.Contains(m.Text, "You are being paged for ALERT-1") {
				n++
			}
		}
		return n
	}
	waitUntil(t, fake, "carol's page", 30*time.Second, func() bool { return pages() == 1 })
	time.Sleep(time.Second)
	if n := pages(); n != 1 {
		t.Errorf("carol got %d pages, want 1", n)
	}
	if n := len(alertMessages(fake, alertsCh)); n != 1 {
		t.Errorf("%d alert messages, want 1", n)
	}
	for _, p := range r.procs {
		p.stop()
	}
}
