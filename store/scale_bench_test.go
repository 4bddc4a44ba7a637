package store

// The store at scale: 10,000 incidents with 1,000,000 timeline entries.
// Run: go test ./store -run '^$' -bench Scale -benchtime 1x -count 3
// (about a minute a variant; skipped under -short).

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/incidentbot/incidentbot/incident"
)

const (
	scaleIncidents = 10_000
	scalePerInc    = 100 // timeline entries per incident: 1,000,000 in all
	scaleGroup     = 100 // incidents written together, their entries interleaved
	scaleOpen      = 20  // the newest incidents stay open
)

var scaleStart = time.Date(2023, 8, 17, 10, 0, 0, 0, time.UTC)

func scaleIncident(id int64) *incident.Incident {
	inc := incident.New(id, incident.Declaration{Title: "Checkout errors in FRA after config push " + strconv.FormatInt(id, 10),
		Severity: incident.Severities[id%4], Services: []string{"checkout"}, By: incident.User{ID: "U0123ABCD", Name: "mara"},
		At: scaleStart.Add(time.Duration(id) * time.Hour)})
	inc.ChannelID, inc.ChannelName = fmt.Sprintf("C0INC%06d", id), incident.ChannelName(id, inc.Title, 1)
	return inc
}

// scaleEntry is entry i of incident id: mostly captured messages (with a
// source and a permalink), every fifth a bot event.
func scaleEntry(id int64, i int) *incident.Entry {
	at := scaleStart.Add(time.Duration(id)*time.Hour + time.Duration(i)*time.Minute)
	if i%5 == 4 {
		return &incident.Entry{At: at, Kind: incident.KindEvent, Event: "status", Text: "Status changed to *mitigated*", RecordedAt: at}
	}
	ts := strconv.FormatInt(at.Unix(), 10) + ".000100"
	ch := fmt.Sprintf("C0INC%06d", id)
	return &incident.Entry{At: at, Kind: incident.KindMessage, Author: incident.User{ID: "U0123ABCD", Name: "mara"},
		Text:   "Found it: a stale KV value in the FRA POP. " + strings.Repeat("Config pushes are not reaching the edge. ", 1+i%3),
		Link:   "https://example.slack.com/archives/" + ch + "/p" + strings.ReplaceAll(ts, ".", ""),
		Source: ch + "/" + ts, PinnedBy: []string{"U0456EFGH:pushpin"}, RecordedAt: at}
}

// scaleWrite builds the database in batched transactions as the bot would
// over months: a group of incidents declared, their entries interleaved in
// ten transactions, then all but the newest resolved. put writes an
// incident, add an entry.
func scaleWrite(b *testing.B, update func(func(put func(*incident.Incident) error, add func(int64, *incident.Entry) error) error) error) {
	for first := int64(1); first <= scaleIncidents; first += scaleGroup {
		var group []*incident.Incident
		for id := first; id < first+scaleGroup; id++ {
			group = append(group, scaleIncident(id))
		}
		steps := []func(put func(*incident.Incident) error, add func(int64, *incident.Entry) error) error{
			func(put func(*incident.Incident) error, _ func(int64, *incident.Entry) error) error {
				for _, inc := range group {
					if err := put(inc); err != nil {
						return err
					}
				}
				return nil
			},
		}
		for r := 0; r < 10; r++ {
			steps = append(steps, func(_ func(*incident.Incident) error, add func(int64, *incident.Entry) error) error {
				for _, inc := range group {
					for i := r * scalePerInc / 10; i < (r+1)*scalePerInc/10; i++ {
						if err := add(inc.ID, scaleEntry(inc.ID, i)); err != nil {
							return err
						}
					}
				}
				return nil
			})
		}
		steps = append(steps, func(put func(*incident.Incident) error, _ func(int64, *incident.Entry) error) error {
			for _, inc := range group {
				if inc.ID <= scaleIncidents-scaleOpen {
					_ = inc.Resolve(inc.Times.Declared.Add(time.Hour), "fixed")
					if err := put(inc); err != nil {
						return err
					}
				}
			}
			return nil
		})
		for _, step := range steps {
			if err := update(step); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func scaleBuildStore(b *testing.B, path string) {
	db, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	scaleWrite(b, func(step func(func(*incident.Incident) error, func(int64, *incident.Entry) error) error) error {
		return db.Update(func(tx *Tx) error { return step(tx.PutIncident, tx.AppendEntry) })
	})
}

// scaleBuildFloor writes the same records with raw bbolt: the incidents and
// one flat bucket of entries (incident id, seq → entry), both with
// FillPercent 1.0, and no index.
func scaleBuildFloor(b *testing.B, path string) {
	raw, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	seqs := map[int64]uint64{}
	scaleWrite(b, func(step func(func(*incident.Incident) error, func(int64, *incident.Entry) error) error) error {
		return raw.Update(func(tx *bolt.Tx) error {
			incs, err := tx.CreateBucketIfNotExists([]byte("incidents"))
			if err != nil {
				return err
			}
			entries, err := tx.CreateBucketIfNotExists([]byte("entries"))
			if err != nil {
				return err
			}
			incs.FillPercent, entries.FillPercent = 1, 1
			return step(func(inc *incident.Incident) error {
				return putJSON(incs, u64(uint64(inc.ID)), inc)
			}, func(id int64, e *incident.Entry) error {
				seqs[id]++
				e.Seq = seqs[id]
				return putJSON(entries, append(u64(uint64(id)), u64(e.Seq)...), e)
			})
		})
	})
}

// BenchmarkScale builds 10,000 incidents with 1,000,000 timeline entries and
// reports the file's size (MiB) and how full its pages are; start-up (Open
// with its checks, in a fresh process) and that process's RSS after one
// scrape and one list; bbolt's full consistency check (check-ms: what Open
// runs on files up to MaxCheckSize, and every backup's verification); the time of a scrape (Counts) and of listing the
// open incidents, and (scan-ms) of the scrape as it was, decoding every
// incident. Variants: empty (a new file: the floor for the timings), store,
// store-fill=0.5 (this store with bbolt's default FillPercent, as it was),
// floor-raw-bbolt (the same records, FillPercent 1.0, no index).
func BenchmarkScale(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a 1M-entry database")
	}
	b.Run("empty", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "scale.db")
		db, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		_ = db.Close()
		scaleReport(b, path, "store")
	})
	for _, v := range []struct {
		name string
		fill float64
	}{{"store", appendFill}, {"store-fill=0.5", bolt.DefaultFillPercent}} {
		b.Run(v.name, func(b *testing.B) {
			defer func(f float64) { appendFill = f }(appendFill)
			appendFill = v.fill
			path := filepath.Join(b.TempDir(), "scale.db")
			t0 := time.Now()
			scaleBuildStore(b, path)
			b.ReportMetric(time.Since(t0).Seconds(), "build-s")
			scaleReport(b, path, "store")
		})
	}
	b.Run("floor-raw-bbolt", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "scale.db")
		t0 := time.Now()
		scaleBuildFloor(b, path)
		b.ReportMetric(time.Since(t0).Seconds(), "build-s")
		scaleReport(b, path, "raw")
	})
}

func scaleReport(b *testing.B, path, kind string) {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(fi.Size())/(1<<20), "MiB")
	child := scaleChild(b, kind, path)
	b.ReportMetric(child["startup_ns"]/1e6, "startup-ms")
	b.ReportMetric(child["rss_kib"]/1024, "rss-MiB")
	raw, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	if err := verify(path, raw); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(t0))/1e6, "check-ms")
	var inuse, alloc int
	_ = raw.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(_ []byte, bk *bolt.Bucket) error {
			s := bk.Stats()
			inuse, alloc = inuse+s.LeafInuse+s.BranchInuse, alloc+s.LeafAlloc+s.BranchAlloc
			return nil
		})
	})
	_ = raw.Close()
	if alloc > 0 {
		b.ReportMetric(100*float64(inuse)/float64(alloc), "pages-full-%")
	}
	if kind != "store" {
		return
	}
	db, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	b.ReportMetric(median(b, 200, func() error {
		return db.View(func(tx *Tx) error { _, err := tx.Counts(); return err })
	})/1e3, "scrape-µs")
	b.ReportMetric(median(b, 50, func() error {
		return db.View(func(tx *Tx) error { _, err := tx.OpenIncidents(); return err })
	})/1e3, "list-µs")
	b.ReportMetric(median(b, 3, func() error {
		return db.View(func(tx *Tx) error {
			return tx.EachIncident(func(inc *incident.Incident) error { _ = inc.ActiveEscalations(); return nil })
		})
	})/1e6, "scan-ms")
}

// median runs fn n times and returns the median duration in nanoseconds.
func median(b *testing.B, n int, fn func() error) float64 {
	var d []time.Duration
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if err := fn(); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(t0))
	}
	slices.Sort(d)
	return float64(d[n/2])
}

// scaleChild runs TestScaleChild in a new process on path and returns what
// it measured.
func scaleChild(b *testing.B, kind, path string) map[string]float64 {
	cmd := exec.Command(os.Args[0], "-test.run=^TestScaleChild$", "-test.v")
	cmd.Env = append(os.Environ(), "INCIDENTBOT_SCALE_CHILD="+kind+":"+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("child: %v\n%s", err, out)
	}
	got := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "SCALE "); ok {
			for _, f := range strings.Fields(rest) {
				k, v, _ := strings.Cut(f, "=")
				got[k], _ = strconv.ParseFloat(v, 64)
			}
		}
	}
	if len(got) == 0 {
		b.Fatalf("child measured nothing:\n%s", out)
	}
	return got
}

// TestScaleChild is BenchmarkScale's fresh process: it opens the database
// (as the bot starts), scrapes and lists once, and prints the start-up time
// and its RSS. It does nothing in an ordinary test run.
func TestScaleChild(t *testing.T) {
	kind, path, ok := strings.Cut(os.Getenv("INCIDENTBOT_SCALE_CHILD"), ":")
	if !ok {
		t.Skip("run by BenchmarkScale")
	}
	t0 := time.Now()
	var startup time.Duration
	if kind == "raw" {
		raw, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		startup = time.Since(t0)
		_ = raw.View(func(tx *bolt.Tx) error { _ = tx.Bucket([]byte("incidents")).Get(u64(1)); return nil })
		defer raw.Close()
	} else {
		db, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		startup = time.Since(t0)
		err = db.View(func(tx *Tx) error {
			if _, err := tx.Counts(); err != nil {
				return err
			}
			_, err := tx.OpenIncidents()
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
	}
	fmt.Printf("SCALE startup_ns=%d rss_kib=%s\n", startup.Nanoseconds(), procStatus("VmRSS"))
}

func procStatus(field string) string {
	data, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				return f[0]
			}
		}
	}
	return "0"
}

// BenchmarkMigrateLive times the upgrade to schema 3 (Open of a schema 2
// file of 10,000 incidents: the live index and counters built in one
// transaction) next to an Open of the same file already at schema 3.
// Run: go test ./store -run '^$' -bench MigrateLive -benchtime 5x
func BenchmarkMigrateLive(b *testing.B) {
	for _, migrate := range []bool{true, false} {
		b.Run(map[bool]string{true: "from-schema-2", false: "at-schema-3"}[migrate], func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "scale.db")
			db, err := Open(path, Options{})
			if err != nil {
				b.Fatal(err)
			}
			for first := int64(1); first <= scaleIncidents; first += 1000 {
				err := db.Update(func(tx *Tx) error {
					for id := first; id < first+1000; id++ {
						inc := scaleIncident(id)
						if id <= scaleIncidents-scaleOpen {
							_ = inc.Resolve(inc.Times.Declared.Add(time.Hour), "fixed")
						}
						if err := tx.PutIncident(inc); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			_ = db.Close()
			for b.Loop() {
				b.StopTimer()
				if migrate {
					raw, err := bolt.Open(path, 0o600, nil)
					if err != nil {
						b.Fatal(err)
					}
					_ = raw.Update(func(tx *bolt.Tx) error {
						_ = tx.DeleteBucket(bucketLive)
						_ = tx.DeleteBucket(bucketCounts)
						return tx.Bucket(bucketMeta).Put(keySchema, u64(2))
					})
					_ = raw.Close()
				}
				b.StartTimer()
				db, err := Open(path, Options{})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := db.View(func(tx *Tx) error { return tx.CheckIndex() }); err != nil {
					b.Fatal(err)
				}
				_ = db.Close()
				b.StartTimer()
			}
		})
	}
}
