package main

// GET /backup: the bot's side of `incidentbot backup` while it holds the
// database. The file holds every incident, private ones included, and the
// endpoint listens wherever the probes do, so a caller needs the token the
// bot writes next to the database at start; and no client, however slow,
// may hold a bbolt transaction, since a commit that grows bbolt's memory map
// waits for every open one and the bot would stop acking envelopes.

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/incidentbot/incidentbot/store"
)

const (
	// maxBackups bounds the snapshots served at once (each is a temporary
	// copy of the database on its disk): two, so that one hung client does
	// not stop the next backup.
	maxBackups = 2
	// backupWriteTimeout is how long one chunk of a snapshot may take to
	// reach the client before the bot gives up on it.
	backupWriteTimeout = 30 * time.Second
	// backupMaxDuration bounds a whole transfer, so a client reading a
	// trickle cannot hold a slot for ever.
	backupMaxDuration = 10 * time.Minute
)

// backupServer serves GET /backup.
type backupServer struct {
	db        *store.DB
	tokenFile string
	token     [sha256.Size]byte // the token's hash; zero: backups are off
	slots     chan struct{}
	log       zerolog.Logger
}

// newBackupServer writes a new token to the token file (rotated at every
// start, so a copy of an old one is worthless) when the bot serves HTTP.
// The file is created 0600 and renamed into place, so it is never readable
// by others, not even half written.
func newBackupServer(cfg Config, db *store.DB, log zerolog.Logger) (*backupServer, error) {
	s := &backupServer{db: db, tokenFile: backupTokenPath(cfg.DB), slots: make(chan struct{}, maxBackups), log: log}
	if cfg.HTTPAddr == "" {
		return s, nil
	}
	token := rand.Text() + rand.Text() // 52 base32 characters, 260 bits
	f, err := os.CreateTemp(filepath.Dir(s.tokenFile), "."+filepath.Base(s.tokenFile)+".tmp-*")
	if err == nil {
		_, err = f.WriteString(token + "\n")
		if err == nil {
			err = f.Chmod(0o600)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), s.tokenFile)
		}
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cannot write the backup token %s: %w (incidentbot needs to write in the directory of INCIDENTBOT_DB)", s.tokenFile, err)
	}
	s.token = sha256.Sum256([]byte(token))
	return s, nil
}

// proxyHeaders mark a request relayed by a proxy (a sidecar, an ingress, a
// port-forward behind one): whoever sent it is not on this host.
var proxyHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip"}

// ServeHTTP checks the caller, takes a snapshot into a temporary file
// (holding the read transaction only while the local copy is written) and
// streams that file with a deadline on every write.
func (s *backupServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet { // the mux lets HEAD through: it would take a snapshot for nothing
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "GET only: run 'incidentbot backup FILE'", http.StatusMethodNotAllowed)
		return
	}
	if !s.localCaller(w, r, "backups", "incidentbot backup FILE") {
		return
	}
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	default:
		w.Header().Set("Retry-After", "30")
		http.Error(w, fmt.Sprintf("%d backups are already being sent: try again when one is done", maxBackups), http.StatusServiceUnavailable)
		return
	}
	start := time.Now()
	f, n, done, err := s.snapshot()
	if err != nil {
		s.log.Error().Err(err).Msg("backup snapshot failed")
		http.Error(w, "the snapshot failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	defer done()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	if err := s.stream(w, f, start.Add(backupMaxDuration)); err != nil {
		s.log.Warn().Err(err).Str("remote", r.RemoteAddr).Int64("bytes", n).Msg("gave up sending a backup: the client stopped reading")
		return
	}
	s.log.Info().Str("remote", r.RemoteAddr).Int64("bytes", n).Dur("took", time.Since(start)).Msg("sent a backup")
}

// snapshot writes a consistent copy of the database into a temporary file
// in the database's directory (the one place known to be writable and to
// have room: a root filesystem may be read-only) and returns it with the
// function that closes and deletes it. The name is removed at once where
// the system allows it, so a killed bot leaves nothing behind.
func (s *backupServer) snapshot() (*os.File, int64, func(), error) {
	f, err := os.CreateTemp(filepath.Dir(s.db.Path()), "."+filepath.Base(s.db.Path())+".snapshot-*")
	if err != nil {
		return nil, 0, nil, fmt.Errorf("cannot create the snapshot file beside %s: %w", s.db.Path(), err)
	}
	unlinked := os.Remove(f.Name()) == nil
	done := func() {
		_ = f.Close()
		if !unlinked {
			_ = os.Remove(f.Name())
		}
	}
	n, err := s.db.WriteTo(f)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		done()
		return nil, 0, nil, fmt.Errorf("cannot write the snapshot beside %s: %w", s.db.Path(), err)
	}
	return f, n, done, nil
}

// stream copies f to w, each chunk with its own write deadline (and none
// past end), and clears the deadline after, for the next request on the
// connection. A ResponseWriter without deadlines (a test's recorder) is
// written without.
func (s *backupServer) stream(w http.ResponseWriter, f io.Reader, end time.Time) error {
	rc := http.NewResponseController(w)
	defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()
	buf := make([]byte, 256<<10)
	for {
		k, rerr := f.Read(buf)
		if k > 0 {
			deadline := min(time.Now().Add(backupWriteTimeout).UnixNano(), end.UnixNano())
			if err := rc.SetWriteDeadline(time.Unix(0, deadline)); err != nil && !errors.Is(err, http.ErrNotSupported) {
				return err
			}
			if _, err := w.Write(buf[:k]); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// serveBackup is GET /backup (backupServer).
func (a *app) serveBackup(w http.ResponseWriter, r *http.Request) { a.backup.ServeHTTP(w, r) }

// localCaller lets through only a caller on this host (loopback, no proxy
// header) holding the token in the token file beside the database, and
// answers the others; what and how name the endpoint and its command.
func (s *backupServer) localCaller(w http.ResponseWriter, r *http.Request, what, how string) bool {
	for _, h := range proxyHeaders {
		if len(r.Header.Values(h)) > 0 {
			http.Error(w, what+" are not served through a proxy ("+h+" is set): run '"+how+"' on the bot's host or in its pod", http.StatusForbidden)
			return false
		}
	}
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		http.Error(w, what+" are served to local callers only: run '"+how+"' on the bot's host or in its pod", http.StatusForbidden)
		return false
	}
	if s.token == ([sha256.Size]byte{}) {
		http.Error(w, what+" are off: the bot has no backup token", http.StatusServiceUnavailable)
		return false
	}
	// Hashing first makes the comparison constant-time in the length too.
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if sum := sha256.Sum256([]byte(got)); !ok || subtle.ConstantTimeCompare(sum[:], s.token[:]) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="incidentbot backup"`)
		http.Error(w, "this needs the token in "+s.tokenFile+": run '"+how+"' as the bot's user, which sends it", http.StatusUnauthorized)
		return false
	}
	return true
}
