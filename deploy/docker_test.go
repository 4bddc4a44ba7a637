package deploy_test

import (
	"encoding/json"
	"net"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// stage is one FROM of the Dockerfile: its image and its instructions.
type stage struct {
	from  string
	instr [][2]string // upper-case command, arguments
}

// parseDockerfile splits a Dockerfile into stages of instructions, joining
// backslash continuations and dropping comments (and parser directives).
func parseDockerfile(t *testing.T, text string) []stage {
	t.Helper()
	var stages []stage
	var cur string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") {
			continue // comments, also inside a continuation
		}
		if strings.HasSuffix(line, `\`) {
			cur += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		line, cur = strings.TrimSpace(cur+line), ""
		if line == "" {
			continue
		}
		cmd, args, _ := strings.Cut(line, " ")
		cmd, args = strings.ToUpper(cmd), strings.TrimSpace(args)
		if cmd == "FROM" {
			words := slices.DeleteFunc(strings.Fields(args), func(w string) bool { return strings.HasPrefix(w, "--") })
			stages = append(stages, stage{from: words[0]})
		}
		if len(stages) == 0 {
			t.Fatalf("Dockerfile: %s before the first FROM", cmd)
		}
		stages[len(stages)-1].instr = append(stages[len(stages)-1].instr, [2]string{cmd, args})
	}
	return stages
}

// all returns the arguments of every cmd instruction, in order.
func (s *stage) all(cmd string) []string {
	var out []string
	for _, in := range s.instr {
		if in[0] == cmd {
			out = append(out, in[1])
		}
	}
	return out
}

// envs reads ENV in both forms: ENV k=v k2="v 2" and the legacy ENV k v.
func (s *stage) envs() map[string]string {
	out := map[string]string{}
	for _, args := range s.all("ENV") {
		if !strings.Contains(strings.Fields(args)[0], "=") {
			k, v, _ := strings.Cut(args, " ")
			out[k] = strings.TrimSpace(v)
			continue
		}
		for _, kv := range strings.Fields(args) {
			if k, v, ok := strings.Cut(kv, "="); ok {
				out[k] = strings.Trim(v, `"`)
			}
		}
	}
	return out
}

// jsonOrWords reads an exec-form ["a","b"] argument list, or whitespace
// separated words; exec reports which form it was.
func jsonOrWords(args string) (words []string, exec bool) {
	if strings.HasPrefix(args, "[") {
		if err := json.Unmarshal([]byte(args), &words); err == nil {
			return words, true
		}
	}
	return strings.Fields(args), false
}

var goDirective = regexp.MustCompile(`(?m)^go\s+(\d+)\.(\d+)(?:\.\d+)?\s*$`)

func loadDockerfile(t *testing.T) (build, final *stage) {
	t.Helper()
	stages := parseDockerfile(t, string(readFile(t, filepath.Join(repoRoot, "Dockerfile"))))
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stage(s); want a build stage and a final stage", len(stages))
	}
	return &stages[0], &stages[len(stages)-1]
}

// TestDockerStarts: the final image's ENV defaults, with the two tokens as
// `docker run -e` passes them and the image's VOLUMEs as the only writable
// directories, pass what the bot runs at start and `incidentbot check`.
func TestDockerStarts(t *testing.T) {
	_, final := loadDockerfile(t)
	env := final.envs()
	env["SLACK_APP_TOKEN"], env["SLACK_BOT_TOKEN"] = "xapp-REPLACE-ME", "xoxb-REPLACE-ME"
	var volumes []string
	for _, args := range final.all("VOLUME") {
		w, _ := jsonOrWords(args)
		volumes = append(volumes, w...)
	}
	if db := env["INCIDENTBOT_DB"]; !slices.ContainsFunc(volumes, func(v string) bool { return under(db, v) }) {
		t.Errorf("Dockerfile: ENV INCIDENTBOT_DB=%q is not under any VOLUME %v; the database would live in the container layer", db, volumes)
	}
	// A fresh volume takes the owner of the image's directory: without a
	// COPY --chown to the non-root user, bbolt cannot create its file.
	for _, v := range volumes {
		if !slices.ContainsFunc(final.all("COPY"), func(a string) bool {
			return strings.Contains(a, "--chown=65532") && strings.HasSuffix(a, " "+v)
		}) {
			t.Errorf("Dockerfile: VOLUME %s is not created with COPY --chown=65532:65532, so the nonroot user cannot write to a fresh volume", v)
		}
	}
	root := t.TempDir()
	mkdirs(t, root, volumes...)
	startup(t, "Dockerfile", rooted(env, root))
}

// TestDockerfile checks what the start cannot: the build, the user, how
// the binary is run, and the port the probes reach.
func TestDockerfile(t *testing.T) {
	build, final := loadDockerfile(t)

	// The golang tag must match go.mod's go directive, so the build never
	// needs to download a newer toolchain (or fails offline).
	image, tag, _ := strings.Cut(build.from, ":")
	tagVersion, _, _ := strings.Cut(tag, "-")
	m := goDirective.FindSubmatch(readFile(t, filepath.Join(repoRoot, "go.mod")))
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	if want := string(m[1]) + "." + string(m[2]); image != "golang" || !strings.HasPrefix(tagVersion+".", want+".") {
		t.Errorf("Dockerfile builds FROM %s but go.mod says go %s; want golang:%s-…", build.from, want, want)
	}
	var goBuild string
	for _, args := range build.all("RUN") {
		if strings.Contains(args, "go build") {
			goBuild = args
		}
	}
	// A static binary, for an image without libc.
	if !regexp.MustCompile(`(^|\s)\./cmd/incidentbot(\s|$)`).MatchString(goBuild) || !strings.Contains(goBuild, "CGO_ENABLED=0") {
		t.Errorf("Dockerfile: the build stage's go build %q should build ./cmd/incidentbot with CGO_ENABLED=0", goBuild)
	}

	if !strings.HasPrefix(final.from, "gcr.io/distroless/") && final.from != "scratch" {
		t.Errorf("Dockerfile: final stage is FROM %s, want gcr.io/distroless/… or scratch", final.from)
	}
	if users := final.all("USER"); len(users) == 0 || slices.Contains([]string{"", "root", "0"}, strings.Split(users[len(users)-1], ":")[0]) {
		t.Errorf("Dockerfile: the final stage must name a non-root USER")
	}
	// Exec form, so the bot is PID 1 and gets SIGTERM to shut down cleanly.
	eps, cmds := final.all("ENTRYPOINT"), final.all("CMD")
	if len(eps) == 0 || len(cmds) == 0 {
		t.Fatal("Dockerfile: the final stage needs ENTRYPOINT and CMD")
	}
	ep, exec := jsonOrWords(eps[len(eps)-1])
	if c, _ := jsonOrWords(cmds[len(cmds)-1]); !exec || len(ep) != 1 || !slices.Equal(c, []string{"run"}) {
		t.Errorf("Dockerfile: ENTRYPOINT %v CMD %v, want an exec-form [\"/path/incidentbot\"] and [\"run\"]", ep, c)
	} else if !slices.ContainsFunc(final.all("COPY"), func(a string) bool { return strings.Contains(a, "--from=") && strings.HasSuffix(a, " "+ep[0]) }) {
		t.Errorf("Dockerfile: no COPY --from=… puts the binary at the ENTRYPOINT %s", ep[0])
	}
	host, port, err := net.SplitHostPort(final.envs()["INCIDENTBOT_HTTP_ADDR"])
	var exposed []string
	for _, args := range final.all("EXPOSE") {
		for _, p := range strings.Fields(args) {
			exposed = append(exposed, strings.TrimSuffix(p, "/tcp"))
		}
	}
	if err != nil || host == "127.0.0.1" || host == "localhost" || !slices.Contains(exposed, port) {
		t.Errorf("Dockerfile: INCIDENTBOT_HTTP_ADDR=%q with EXPOSE %v; probes from outside need 0.0.0.0:<an exposed port>",
			final.envs()["INCIDENTBOT_HTTP_ADDR"], exposed)
	}
}

func TestDockerignore(t *testing.T) {
	var patterns []string
	for _, line := range strings.Split(string(readFile(t, filepath.Join(repoRoot, ".dockerignore"))), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, line)
		}
	}
	// Never into an image: the repository, databases, token files.
	for _, p := range []string{".git", "**/*.db", "**/*.env"} {
		if !slices.Contains(patterns, p) {
			t.Errorf(".dockerignore lacks %s", p)
		}
	}
	// The build needs these; ignoring one breaks docker build.
	for _, needed := range []string{"go.mod", "go.sum", "cmd/incidentbot/main.go", "internal/config/config.go", "handlers/slack.go"} {
		for _, p := range patterns {
			if ignores(p, needed) {
				t.Errorf(".dockerignore pattern %q excludes %s, which the build needs", p, needed)
			}
		}
	}
}

// ignores approximates .dockerignore matching: a pattern matches the path or
// any of its parent directories; a leading **/ matches at any depth.
func ignores(pattern, name string) bool {
	if strings.HasPrefix(pattern, "!") {
		return false
	}
	pattern = strings.TrimPrefix(pattern, "/")
	anyDepth := strings.HasPrefix(pattern, "**/")
	pattern = strings.TrimPrefix(pattern, "**/")
	parts := strings.Split(name, "/")
	for i := range parts {
		for j := i + 1; j <= len(parts); j++ {
			if i > 0 && !anyDepth {
				break
			}
			if ok, _ := path.Match(pattern, strings.Join(parts[i:j], "/")); ok {
				return true
			}
		}
	}
	return false
}
