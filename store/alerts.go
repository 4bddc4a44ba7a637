package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/incidentbot/incidentbot/incident"
)

// Alerts taken by the alert receiver: the records, the latest record of
// each group key, the open ones (a small index, so /incident alerts and a
// scrape never scan every alert), each route's storm window, and counters,
// all maintained in the transaction that writes the alert.
var (
	bucketAlerts       = []byte("alerts")
	bucketAlertKeys    = []byte("alert_keys")
	bucketAlertsOpen   = []byte("alerts_open")
	bucketAlertWindows = []byte("alert_windows")
	bucketAlertCounts  = []byte("alert_counts")
)

func init() {
	allBuckets = append(allBuckets, bucketAlerts, bucketAlertKeys, bucketAlertsOpen, bucketAlertWindows, bucketAlertCounts)
}

// The alert counters (AlertCounts).
const (
	CountAlertsReceived   = "received"   // notifications taken, repeats included
	CountAlertsNew        = "new"        // alerts opened
	CountAlertsResolved   = "resolved"   // alerts resolved, by their source or by hand
	CountAlertsSuppressed = "suppressed" // alerts gathered into a storm alert instead of paging
)

// NextAlertID allocates the next alert number.
func (t *Tx) NextAlertID() (int64, error) {
	b := t.bucket(bucketAlerts)
	if !b.exists() {
		return 0, fmt.Errorf("new alert: %w", errNoBucket)
	}
	n, err := b.NextSequence()
	return int64(n), err
}

// PutAlert writes an alert, points its key at it, and keeps the open index.
func (t *Tx) PutAlert(a *incident.AlertRecord) error {
	if a.ID <= 0 || a.Key == "" {
		return fmt.Errorf("put alert: id %d key %q: %w", a.ID, a.Key, incident.ErrInvalidInput)
	}
	b := t.bucket(bucketAlerts)
	if !b.exists() {
		return fmt.Errorf("put alert: %w", errNoBucket)
	}
	key := u64(uint64(a.ID))
	if err := appending(b).putJSON(key, a); err != nil {
		return err
	}
	if err := t.bucket(bucketAlertKeys).Put([]byte(a.Key), key); err != nil {
		return err
	}
	open := t.bucket(bucketAlertsOpen)
	if a.Open() {
		return appending(open).Put(key, nil)
	}
	return open.Delete(key)
}

// Alert returns alert id, or an error matching incident.ErrNotFound.
func (t *Tx) Alert(id int64) (*incident.AlertRecord, error) {
	b := t.bucket(bucketAlerts)
	if !b.exists() {
		return nil, fmt.Errorf("alert %s: %w", incident.AlertRef(id), incident.ErrNotFound)
	}
	a, err := get[incident.AlertRecord](b, u64(uint64(id)))
	if err != nil {
		return nil, fmt.Errorf("alert %s: %w", incident.AlertRef(id), err)
	}
	return a, nil
}

// AlertByKey returns the latest alert of a group key (incident.AlertKey),
// open or not, or an error matching incident.ErrNotFound.
func (t *Tx) AlertByKey(key string) (*incident.AlertRecord, error) {
	b := t.bucket(bucketAlertKeys)
	if !b.exists() {
		return nil, fmt.Errorf("alert group: %w", incident.ErrNotFound)
	}
	v := b.Get([]byte(key))
	if len(v) != 8 {
		return nil, fmt.Errorf("alert group: %w", incident.ErrNotFound)
	}
	return t.Alert(int64(binary.BigEndian.Uint64(v)))
}

// OpenAlerts returns the alerts still firing, oldest first.
func (t *Tx) OpenAlerts() ([]*incident.AlertRecord, error) {
	open := t.bucket(bucketAlertsOpen)
	if !open.exists() {
		return nil, nil
	}
	var out []*incident.AlertRecord
	err := open.ForEach(func(k, _ []byte) error {
		a, err := t.Alert(int64(binary.BigEndian.Uint64(k)))
		if err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

// OpenAlertCount counts the alerts still firing, without reading them.
func (t *Tx) OpenAlertCount() int { return count(t.bucket(bucketAlertsOpen)) }

// AlertWindow returns a route's storm window (zero if none yet).
func (t *Tx) AlertWindow(route string) (incident.AlertWindow, error) {
	var w incident.AlertWindow
	b := t.bucket(bucketAlertWindows)
	if !b.exists() {
		return w, nil
	}
	if v := b.Get([]byte(strings.ToLower(route))); v != nil {
		if err := json.Unmarshal(v, &w); err != nil {
			return w, fmt.Errorf("alert window of route %s: %w", route, err)
		}
	}
	return w, nil
}

// PutAlertWindow writes a route's storm window.
func (t *Tx) PutAlertWindow(route string, w incident.AlertWindow) error {
	b := t.bucket(bucketAlertWindows)
	if !b.exists() {
		return fmt.Errorf("alert window: %w", errNoBucket)
	}
	return b.putJSON([]byte(strings.ToLower(route)), w)
}

// CountAlert adds delta to an alert counter (CountAlertsReceived, …).
func (t *Tx) CountAlert(name string, delta int) error {
	b := t.bucket(bucketAlertCounts)
	if !b.exists() {
		return fmt.Errorf("count alerts: %w", errNoBucket)
	}
	return addCount(b, []byte(name), delta)
}

// AlertCounts returns the alert counters by name, and "firing": the alerts
// open now.
func (t *Tx) AlertCounts() map[string]uint64 {
	out := map[string]uint64{"firing": uint64(t.OpenAlertCount())}
	b := t.bucket(bucketAlertCounts)
	for _, name := range []string{CountAlertsReceived, CountAlertsNew, CountAlertsResolved, CountAlertsSuppressed} {
		if b.exists() {
			out[name] = readCount(b, []byte(name))
		} else {
			out[name] = 0
		}
	}
	return out
}
