package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/incidentbot/incidentbot/internal/config"
)

// cmdCluster is `incidentbot cluster status` and `incidentbot cluster
// bootstrap --from FILE`, both asking the node running on this host (its
// INCIDENTBOT_HTTP_ADDR).
func cmdCluster(args []string, stdout, stderr io.Writer, env config.Lookup) int {
	usage := "Usage:\n  incidentbot cluster status\n  incidentbot cluster bootstrap --from FILE [--force]\n"
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("cluster "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	from := fs.String("from", "", "the database file (a single-node incidentbot's) to make the cluster's state")
	force := fs.Bool("force", false, "replace a cluster state that already holds incidents")
	if _, code := parseFlags(fs, args, 0); code >= 0 {
		return code
	}
	cfg, code := configFrom(env, stderr, false)
	if code >= 0 {
		return code
	}
	if !cfg.ClusterEnabled() {
		fmt.Fprintln(stderr, "incidentbot cluster: INCIDENTBOT_CLUSTER_NODE_ID is not set: this is a single-node deployment")
		return 1
	}
	base, err := localBase(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "incidentbot cluster: %v\n", err)
		return 1
	}
	switch sub {
	case "status":
		return clusterStatusCmd(base, stdout, stderr)
	case "bootstrap":
		if *from == "" {
			fmt.Fprint(stderr, "incidentbot cluster bootstrap: --from FILE is required\n"+usage)
			return 2
		}
		return clusterBootstrapCmd(cfg, base, *from, *force, stdout, stderr)
	}
	fmt.Fprintf(stderr, "incidentbot cluster: unknown subcommand %q\n%s", sub, usage)
	return 2
}

// localBase is the URL of this host's bot's HTTP endpoints.
func localBase(cfg Config) (string, error) {
	host, port, err := net.SplitHostPort(cfg.HTTPAddr)
	if err != nil {
		return "", fmt.Errorf("INCIDENTBOT_HTTP_ADDR %q: %w (the cluster commands ask the running node there)", cfg.HTTPAddr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

func clusterStatusCmd(base string, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/cluster/status", nil)
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "incidentbot cluster status: the node at %s did not answer: %v\n", base, err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		fmt.Fprintf(stderr, "incidentbot cluster status: %s: %s\n", resp.Status, strings.TrimSpace(string(msg)))
		return 1
	}
	var st clusterStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		fmt.Fprintf(stderr, "incidentbot cluster status: %v\n", err)
		return 1
	}
	leader := st.LeaderID
	if leader == "" {
		leader = "none (an election, or no quorum)"
	}
	fmt.Fprintf(stdout, "node %s: %s · leader %s · term %d · commit index %d · applied %d (store %d) · last snapshot %d\n",
		st.NodeID, st.State, leader, st.Term, st.CommitIndex, st.AppliedIndex, st.StoreApplied, st.LastSnapshotIndex)
	fmt.Fprintf(stdout, "ready: %v (%s)\n", st.Ready, st.Reason)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PEER\tADDRESS\tVOTER\tLAST LOG\tAPPLIED\tLAG\tREPORTED\tPROBLEM")
	for _, p := range st.Peers {
		reported, lag := "-", "-"
		if !p.ReportedAt.IsZero() {
			reported = p.ReportedAt.UTC().Format(time.TimeOnly)
			lag = fmt.Sprint(p.Lag)
		}
		problem := p.Error
		if !p.HeartbeatFailingSince.IsZero() {
			problem = strings.TrimSpace(problem + " heartbeats failing since " + p.HeartbeatFailingSince.UTC().Format(time.TimeOnly))
		}
		name := p.ID
		if p.Self {
			name += " (this node)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%d\t%s\t%s\t%s\n", name, p.Addr, p.Voter, p.LastLogIndex, p.AppliedIndex, lag, reported, problem)
	}
	_ = tw.Flush()
	if st.LeaderID == "" {
		return 1
	}
	return 0
}

func clusterBootstrapCmd(cfg Config, base, from string, force bool, stdout, stderr io.Writer) int {
	f, err := os.Open(from)
	if err != nil {
		fmt.Fprintf(stderr, "incidentbot cluster bootstrap: %v\n", err)
		return 1
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		fmt.Fprintf(stderr, "incidentbot cluster bootstrap: %v\n", err)
		return 1
	}
	token, err := os.ReadFile(backupTokenPath(cfg.DB))
	if err != nil {
		fmt.Fprintf(stderr, "incidentbot cluster bootstrap: cannot read the node's token: %v (run it as the bot's user, with INCIDENTBOT_DB as the bot has it)\n", err)
		return 1
	}
	url := base + "/cluster/bootstrap"
	if force {
		url += "?force=1"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, f)
	req.ContentLength = info.Size()
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "incidentbot cluster bootstrap: the node at %s did not answer: %v\n", base, err)
		return 1
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "incidentbot cluster bootstrap: %s: %s\n", resp.Status, strings.TrimSpace(string(msg)))
		return 1
	}
	fmt.Fprint(stdout, string(msg))
	return 0
}
